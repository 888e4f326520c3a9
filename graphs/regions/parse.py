"""Region hierarchies from the forms a config (YAML, a checkpoint's JSON) names one in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mne

from biosig.errors import ConfigError
from graphs.positions import TEMPLATE, montage_channels

from .hierarchy import RegionHierarchy
from .montage import hierarchy_from_positions
from .presets import NAMED_HIERARCHIES, hierarchy_for


_MONTAGE_KEYS = ("montage", "channels", "n_regions")
_EXPLICIT_KEYS = ("name", "regions", "intra_edges", "region_edges")


def parse_hierarchy(value: RegionHierarchy | str | Mapping[str, Any]) -> RegionHierarchy:
    """A hierarchy from the forms a config (YAML, a checkpoint's JSON) names one in.

    * a :class:`~graphs.regions.hierarchy.RegionHierarchy`: itself;
    * a name: one of :data:`~graphs.regions.presets.NAMED_HIERARCHIES` (``emotiv14_histn``, ``deap32``,
      ``seed62``, ``dreamer``, ...) or an MNE montage name (``biosemi32``,
      ``GSN-HydroCel-64_1.0``), resolved by :func:`~graphs.regions.presets.hierarchy_for`;
    * ``{montage: NAME, channels: [...], n_regions: k}`` (``channels`` and
      ``n_regions`` optional): :func:`~graphs.regions.presets.hierarchy_for` of the channels (default:
      all of the montage's) with the montage's positions, or with
      ``n_regions`` :func:`~graphs.regions.montage.hierarchy_from_positions` into that many regions;
    * the explicit form ``{name, regions: {REGION: [ch, ...], ...},
      intra_edges: [[a, b], ...], region_edges: [[R1, R2], ...]}``, regions in
      order; ``regions`` may also be ``[[REGION, [ch, ...]], ...]``, the form
      ``model_dump(mode="json")`` writes, so a dumped config reads back to the
      same hierarchy. ``name`` defaults to ``"custom"``, edges to none.

    Raises
    ------
    ConfigError
        An unknown name (the message lists the known ones), unknown or
        missing keys, or values of the wrong shape, named by key; and what
        :class:`~graphs.regions.hierarchy.RegionHierarchy` rejects (a channel in two regions, an edge
        naming an unknown channel or region).
    """
    if isinstance(value, RegionHierarchy):
        return value
    if isinstance(value, str):
        montages = (TEMPLATE, *mne.channels.get_builtin_montages())
        if value.casefold() not in NAMED_HIERARCHIES and value not in montages:
            raise ConfigError(
                f"hierarchy {value!r} is unknown; known names: {', '.join(NAMED_HIERARCHIES)}, "
                f"or a montage name: {', '.join(montages)}"
            )
        return hierarchy_for(value)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"hierarchy must be a name ({', '.join(NAMED_HIERARCHIES)}, or an MNE montage) or a mapping, "
            f"not {type(value).__name__}"
        )
    keys = _MONTAGE_KEYS if "montage" in value else _EXPLICIT_KEYS
    unknown = sorted(set(map(str, value)) - set(keys))
    if unknown:
        raise ConfigError(
            f"hierarchy: unknown keys {unknown}; a mapping is either {{{', '.join(_MONTAGE_KEYS)}}} "
            f"or {{{', '.join(_EXPLICIT_KEYS)}}}"
        )
    if "montage" in value:
        return _montage_hierarchy(value)
    if "regions" not in value:
        raise ConfigError(f"hierarchy: a mapping needs 'montage' or 'regions' (keys: {', '.join(_EXPLICIT_KEYS)})")
    regions = value["regions"]
    if isinstance(regions, Mapping):
        pairs = list(regions.items())
    elif isinstance(regions, Sequence) and not isinstance(regions, str):
        pairs = list(regions)
    else:
        raise ConfigError(f"hierarchy.regions must map region names to channel lists, got {regions!r}")
    parsed = []
    for pair in pairs:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ConfigError(f"hierarchy.regions: {pair!r} is not a [region, [channels]] pair")
        region, channels = pair
        parsed.append((str(region), _names(channels, f"hierarchy.regions.{region}")))
    return RegionHierarchy(
        name=str(value.get("name", "custom")),
        regions=tuple(parsed),
        intra_edges=_edges(value.get("intra_edges", ()), "intra_edges"),
        region_edges=_edges(value.get("region_edges", ()), "region_edges"),
    )


def _montage_hierarchy(value: Mapping[str, Any]) -> RegionHierarchy:
    """``{montage, channels, n_regions}`` of :func:`parse_hierarchy`."""
    montage = value["montage"]
    if not isinstance(montage, str):
        raise ConfigError(f"hierarchy.montage must be a montage name, got {montage!r}")
    channels = value.get("channels")
    channels = montage_channels(montage) if channels is None else _names(channels, "hierarchy.channels")
    n_regions = value.get("n_regions")
    if n_regions is None:
        return hierarchy_for(channels, montage=montage)
    if isinstance(n_regions, bool) or not isinstance(n_regions, int):
        raise ConfigError(f"hierarchy.n_regions must be an integer, got {n_regions!r}")
    return hierarchy_from_positions(channels, n_regions=n_regions, montage=montage)


def _names(values: Any, key: str) -> tuple[str, ...]:
    """A list of names from a config, or a ConfigError naming ``key``."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{key} must be a list of names, got {values!r}")
    return tuple(values)


def _edges(values: Any, key: str) -> tuple[tuple[str, str], ...]:
    """Undirected edges ``[[a, b], ...]`` from a config, or a ConfigError naming ``hierarchy.<key>``."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigError(f"hierarchy.{key} must be a list of [a, b] pairs, got {values!r}")
    edges = []
    for i, edge in enumerate(values):
        pair = _names(edge, f"hierarchy.{key}[{i}]")
        if len(pair) != 2:
            raise ConfigError(f"hierarchy.{key}[{i}] must be a pair [a, b], got {list(pair)}")
        edges.append((pair[0], pair[1]))
    return tuple(edges)
