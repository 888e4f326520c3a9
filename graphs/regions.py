"""Brain-region hierarchies: channels -> regions -> global, as used by hierarchical GNNs.

A :class:`RegionHierarchy` names the channel order a model expects, the
regions (each a tuple of channels, in that order), the undirected edges
between channels inside a region, and the undirected edges between regions.
Adjacency matrices derive from it, so one definition serves every model.

Hierarchies: HiSTN's own for DREAMER (:func:`emotiv14_histn`); a name rule for
10-05 montages (:func:`tenten_hierarchy`, with :func:`deap32_hierarchy` and
:func:`seed62_hierarchy`); k-means on positions for any other montage
(:func:`hierarchy_from_positions`); :func:`hierarchy_for` picks one.
:func:`with_peripheral` adds ECG/EDA nodes at the global level.
:func:`parse_hierarchy` reads the forms a config names a hierarchy in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mne
import numpy as np
from scipy.spatial import Delaunay, QhullError
from sklearn.cluster import KMeans

from biosig.errors import ConfigError, DataError
from graphs.adjacency import hemisphere, knn_adjacency, site
from graphs.positions import (
    DEAP32,
    EMOTIV14,
    SEED62,
    TEMPLATE,
    canonical_name,
    electrode_positions,
    montage_channels,
    montage_sphere,
    project_positions,
    projected_positions,
)


@dataclass(frozen=True)
class RegionHierarchy:
    """A three-level hierarchy over EEG channels.

    Attributes
    ----------
    name
        Identifier, e.g. ``"emotiv14_histn"``.
    regions
        ``(region name, channel names)`` pairs; every channel belongs to exactly one region.
    intra_edges
        Undirected channel-channel edges; both ends lie in the same region.
    region_edges
        Undirected region-region edges (HiSTN: a ring).
    """

    name: str
    regions: tuple[tuple[str, tuple[str, ...]], ...]
    intra_edges: tuple[tuple[str, str], ...]
    region_edges: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for region, channels in self.regions:
            if not channels:
                raise ConfigError(f"hierarchy {self.name}: region {region!r} has no channel")
            for ch in channels:
                if ch in seen:
                    raise ConfigError(f"hierarchy {self.name}: channel {ch!r} is in regions {seen[ch]!r} and {region!r}")
                seen[ch] = region
        for a, b in self.intra_edges:
            for ch in (a, b):
                if ch not in seen:
                    raise ConfigError(f"hierarchy {self.name}: edge {a}-{b} names unknown channel {ch!r}")
            if seen[a] != seen[b]:
                raise ConfigError(f"hierarchy {self.name}: edge {a}-{b} joins regions {seen[a]!r} and {seen[b]!r}")
        names = self.region_names
        for a, b in self.region_edges:
            for r in (a, b):
                if r not in names:
                    raise ConfigError(f"hierarchy {self.name}: region edge {a}-{b} names unknown region {r!r}")

    @property
    def channels(self) -> tuple[str, ...]:
        """All channels, region by region: the channel order models expect."""
        return tuple(ch for _, chs in self.regions for ch in chs)

    @property
    def region_names(self) -> tuple[str, ...]:
        """Region names in order."""
        return tuple(r for r, _ in self.regions)

    def region_index(self) -> list[np.ndarray]:
        """Per region, the indices of its channels in :attr:`channels`."""
        order = {ch: i for i, ch in enumerate(self.channels)}
        return [np.array([order[ch] for ch in chs]) for _, chs in self.regions]

    def indices_in(self, ch_names: Sequence[str]) -> np.ndarray:
        """Where each of :attr:`channels` sits in a recording's channel list (case-insensitive).

        ``data[..., hierarchy.indices_in(raw.ch_names), :]`` puts ``(..., n_channels, n_times)``
        data into the hierarchy's channel order.

        Raises
        ------
        DataError
            A hierarchy channel is missing from ``ch_names``.
        """
        index = {canonical_name(ch): i for i, ch in enumerate(ch_names)}
        missing = [ch for ch in self.channels if canonical_name(ch) not in index]
        if missing:
            raise DataError(f"hierarchy {self.name}: channels {missing} are not in the recording's {list(ch_names)}")
        return np.array([index[canonical_name(ch)] for ch in self.channels])

    def assignment(self) -> np.ndarray:
        """0/1 membership ``(n_channels, n_regions)``: channel ``i`` (in :attr:`channels`) in region ``r``."""
        sizes = [len(chs) for _, chs in self.regions]
        return np.repeat(np.eye(len(sizes)), sizes, axis=0)

    def intra_adjacency(self, region: str) -> np.ndarray:
        """Symmetric 0/1 adjacency ``(n, n)`` of one region's channels (no self loops)."""
        channels = dict(self.regions)[region]
        pos = {ch: i for i, ch in enumerate(channels)}
        adj = np.zeros((len(channels), len(channels)))
        for a, b in self.intra_edges:
            if a in pos and b in pos:
                adj[pos[a], pos[b]] = adj[pos[b], pos[a]] = 1.0
        return adj

    def region_adjacency(self) -> np.ndarray:
        """Symmetric 0/1 adjacency ``(n_regions, n_regions)`` between regions."""
        pos = {r: i for i, r in enumerate(self.region_names)}
        adj = np.zeros((len(pos), len(pos)))
        for a, b in self.region_edges:
            adj[pos[a], pos[b]] = adj[pos[b], pos[a]] = 1.0
        return adj

    def channel_adjacency(self) -> np.ndarray:
        """Block-diagonal 0/1 adjacency ``(n_channels, n_channels)`` of all intra-region edges."""
        pos = {ch: i for i, ch in enumerate(self.channels)}
        adj = np.zeros((len(pos), len(pos)))
        for a, b in self.intra_edges:
            adj[pos[a], pos[b]] = adj[pos[b], pos[a]] = 1.0
        return adj


def emotiv14_histn() -> RegionHierarchy:
    """HiSTN's hierarchy for the 14-channel Emotiv EPOC (DREAMER), from the authors' code.

    FL = {AF3, F7, F3, FC5}, PL = {T7, P7, O1}, PR = {O2, P8, T8},
    FR = {FC6, F4, F8, AF4}; FL edges AF3-F3, F7-F3, F7-FC5, F3-FC5 and FR
    their mirror; chains T7-P7-O1 and O2-P8-T8; regions in a ring
    FL-PL-PR-FR-FL. The channel order equals DREAMER's.
    """
    return RegionHierarchy(
        name="emotiv14_histn",
        regions=(
            ("FL", ("AF3", "F7", "F3", "FC5")),
            ("PL", ("T7", "P7", "O1")),
            ("PR", ("O2", "P8", "T8")),
            ("FR", ("FC6", "F4", "F8", "AF4")),
        ),
        intra_edges=(
            ("AF3", "F3"), ("F7", "F3"), ("F7", "FC5"), ("F3", "FC5"),
            ("T7", "P7"), ("P7", "O1"),
            ("O2", "P8"), ("P8", "T8"),
            ("AF4", "F4"), ("F8", "F4"), ("F8", "FC6"), ("F4", "FC6"),
        ),  # fmt: skip
        region_edges=(("FL", "PL"), ("PL", "PR"), ("PR", "FR"), ("FR", "FL")),
    )


# Lobe of each 10-05 row prefix (see tenten_hierarchy).
_LOBES: dict[str, str] = {
    **dict.fromkeys(("n", "nfp", "fp", "afp", "af", "aff", "f", "ffc", "fc"), "F"),
    **dict.fromkeys(("fft", "ft", "ftt", "t", "ttp", "tp", "tpp", "a", "m"), "T"),
    **dict.fromkeys(("fcc", "c", "ccp", "cp"), "C"),
    **dict.fromkeys(("cpp", "p", "ppo"), "P"),
    **dict.fromkeys(("po", "poo", "o", "oi", "i", "cb"), "O"),
}
_REGION_ORDER = ("FL", "FR", "C", "TL", "TR", "PL", "PR", "O")


def tenten_region(name: str) -> str:
    """The region of a 10-05 site in :func:`tenten_hierarchy`: FL, FR, C, TL, TR, PL, PR or O.

    Raises
    ------
    DataError
        The name is not a 10-05 site name.
    """
    parsed = site(name)
    if parsed is None:
        raise DataError(f"channel {name!r} is not a 10-05 site name; use hierarchy_from_positions")
    lobe = _LOBES[parsed[0]]
    side = hemisphere(name)
    if lobe == "O":
        return "O"
    if side == "midline" or lobe == "C":
        return "C"
    return lobe + ("L" if side == "left" else "R")


def tenten_hierarchy(
    ch_names: Sequence[str],
    name: str = "tenten",
    k: int = 3,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
) -> RegionHierarchy:
    """Region hierarchy of 10-05-named channels, from the names (regions) and positions (edges).

    Regions, in this order (empty ones left out):

    * ``FL``/``FR``: frontal sites (Fp, AF, F, FC rows) of the left (odd) / right (even) hemisphere;
    * ``C``: central sites (C, CP rows) of both hemispheres plus every midline (z) site
      from Fpz back to Pz: the one region straddling the midline;
    * ``TL``/``TR``: temporal sites (FT, T, TP rows; earlobes and mastoids);
    * ``PL``/``PR``: parietal sites (P row);
    * ``O``: occipital and below (PO, O, I rows, SEED's CB1/CB2), midline included.

    Intra-region edges: each channel to its ``k`` nearest channels of the same region
    (3-D distance, symmetrised; fewer when the region is smaller). Region edges:
    the Delaunay triangulation of the regions' centroids on the topomap plane
    (every pair when there are at most 3 regions).

    Parameters
    ----------
    ch_names
        10-05 site names, any case (``FP1``, ``Fp1``, ``EEG Fp1-REF``); the hierarchy keeps this spelling.
    name
        The hierarchy's name.
    k
        Neighbours per channel inside a region.
    montage, extra_positions
        Electrode positions (:func:`graphs.positions.electrode_positions`).
    """
    by_region: dict[str, list[str]] = {r: [] for r in _REGION_ORDER}
    for ch in ch_names:
        by_region[tenten_region(ch)].append(ch)
    groups = [(r, chs) for r, chs in by_region.items() if chs]
    return _hierarchy(name, groups, ch_names, k, montage, extra_positions)


def hierarchy_from_positions(
    ch_names: Sequence[str],
    n_regions: int = 8,
    name: str = "positional",
    k: int = 3,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
    seed: int = 0,
) -> RegionHierarchy:
    """Region hierarchy of any montage: k-means clusters of the topomap positions.

    Regions ``R1``, ``R2``, ... are :class:`sklearn.cluster.KMeans` clusters (``n_init=10``,
    ``random_state=seed``) of the 2-D projected positions, numbered front to back by
    centroid (decreasing y, rounded to 1 um; left to right among equals); edges as in
    :func:`tenten_hierarchy`.
    """
    if not 1 <= n_regions <= len(ch_names):
        raise ConfigError(f"n_regions must be between 1 and the {len(ch_names)} channels, got {n_regions}")
    pos = projected_positions(ch_names, montage, extra_positions)
    km = KMeans(n_clusters=n_regions, n_init=10, random_state=seed).fit(pos)
    centroids = km.cluster_centers_
    order = np.lexsort((centroids[:, 0], -np.round(centroids[:, 1], 6)))
    groups = [(f"R{r + 1}", [ch for ch, lab in zip(ch_names, km.labels_) if lab == c]) for r, c in enumerate(order)]
    return _hierarchy(name, groups, ch_names, k, montage, extra_positions)


def _hierarchy(
    name: str,
    groups: list[tuple[str, list[str]]],
    ch_names: Sequence[str],
    k: int,
    montage: str | mne.channels.DigMontage,
    extra_positions: Mapping[str, Sequence[float]] | None,
) -> RegionHierarchy:
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    pos3 = dict(zip(ch_names, electrode_positions(ch_names, montage, extra_positions)))
    sphere = montage_sphere(montage)
    intra: list[tuple[str, str]] = []
    centroids = []
    for _, chs in groups:
        xyz = np.array([pos3[ch] for ch in chs])
        centroids.append(project_positions(xyz, sphere).mean(axis=0))
        if len(chs) > 1:
            i, j = np.nonzero(np.triu(knn_adjacency(xyz, min(k, len(chs) - 1))))
            intra += [(chs[a], chs[b]) for a, b in zip(i, j)]
    names = [r for r, _ in groups]
    return RegionHierarchy(
        name=name,
        regions=tuple((r, tuple(chs)) for r, chs in groups),
        intra_edges=tuple(intra),
        region_edges=tuple((names[a], names[b]) for a, b in _delaunay_edges(np.array(centroids))),
    )


def _delaunay_edges(points: np.ndarray) -> list[tuple[int, int]]:
    """Undirected edges ``(i < j)`` of the Delaunay triangulation of 2-D points; all pairs for <= 3 points."""
    n = len(points)
    if n <= 3:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    try:
        simplices = Delaunay(points).simplices
    except QhullError as err:
        raise DataError(f"region centroids {points.round(4).tolist()} are degenerate (collinear?): {err}") from err
    edges = np.sort(simplices[:, [0, 1, 1, 2, 0, 2]].reshape(-1, 2), axis=1)
    return [tuple(map(int, e)) for e in np.unique(edges, axis=0)]


def deap32_hierarchy() -> RegionHierarchy:
    """:func:`tenten_hierarchy` of DEAP's 32 channels (:data:`graphs.positions.DEAP32`).

    FL = {FP1, AF3, F3, F7, FC5, FC1}, FR its mirror, C = {C3, CP5, CP1, PZ, FZ, CZ, C4, CP6, CP2},
    TL = {T7}, TR = {T8}, PL = {P3, P7}, PR = {P4, P8}, O = {PO3, O1, OZ, PO4, O2}.
    """
    return tenten_hierarchy(DEAP32, name="deap32")


def seed62_hierarchy() -> RegionHierarchy:
    """:func:`tenten_hierarchy` of SEED's 62 channels (:data:`graphs.positions.SEED62`).

    FL = {FP1, AF3, F7, F5, F3, F1, FC5, FC3, FC1}, FR its mirror, C = the C and CP rows
    plus FPZ, FZ, FCZ, PZ (18), TL = {FT7, T7, TP7}, TR its mirror, PL = {P7, P5, P3, P1},
    PR its mirror, O = the PO row, CB1, O1, OZ, O2, CB2 (12).
    """
    return tenten_hierarchy(SEED62, name="seed62")


#: Hierarchies known by name (case-insensitive): the datasets' and the hierarchies' own names.
NAMED_HIERARCHIES: dict[str, Callable[[], RegionHierarchy]] = {
    "emotiv14_histn": emotiv14_histn, "dreamer": emotiv14_histn, "emotiv14": emotiv14_histn,
    "deap": deap32_hierarchy, "deap32": deap32_hierarchy, "seed": seed62_hierarchy, "seed62": seed62_hierarchy,
}  # fmt: skip


def hierarchy_for(
    montage_or_channels: str | Sequence[str],
    montage: str | mne.channels.DigMontage = TEMPLATE,
) -> RegionHierarchy:
    """The hierarchy to use for a dataset, a montage or a channel list.

    * ``"dreamer"``/``"emotiv14"``/``"emotiv14_histn"`` or DREAMER's 14 channels: :func:`emotiv14_histn` (HiSTN's own);
    * ``"deap"``/``"deap32"`` or DEAP's 32 channels: :func:`deap32_hierarchy`;
    * ``"seed"``/``"seed62"`` or SEED's 62 channels: :func:`seed62_hierarchy`;
    * an MNE montage name (``"biosemi64"``, ``"GSN-HydroCel-64_1.0"``): that montage's channels;
    * other channels: :func:`tenten_hierarchy` when all are 10-05 names, else
      :func:`hierarchy_from_positions` (positions from ``montage``).

    Channel lists are compared case-insensitively and in any order; reorder data to the
    hierarchy with :meth:`RegionHierarchy.indices_in`.
    """
    if isinstance(montage_or_channels, str):
        if montage_or_channels.casefold() in NAMED_HIERARCHIES:
            return NAMED_HIERARCHIES[montage_or_channels.casefold()]()
        montage = montage_or_channels
        channels: Sequence[str] = montage_channels(montage)
    else:
        channels = montage_or_channels
    keys = {canonical_name(ch) for ch in channels}
    if len(keys) != len(channels):
        raise DataError(f"channel list {list(channels)} names an electrode twice")
    for known, make in ((EMOTIV14, emotiv14_histn), (DEAP32, deap32_hierarchy), (SEED62, seed62_hierarchy)):
        if keys == {canonical_name(ch) for ch in known}:
            return make()
    if all(site(ch) is not None for ch in channels):
        return tenten_hierarchy(channels, montage=montage)
    return hierarchy_from_positions(channels, n_regions=min(8, len(channels)), montage=montage)


_MONTAGE_KEYS = ("montage", "channels", "n_regions")
_EXPLICIT_KEYS = ("name", "regions", "intra_edges", "region_edges")


def parse_hierarchy(value: RegionHierarchy | str | Mapping[str, Any]) -> RegionHierarchy:
    """A hierarchy from the forms a config (YAML, a checkpoint's JSON) names one in.

    * a :class:`RegionHierarchy`: itself;
    * a name: one of :data:`NAMED_HIERARCHIES` (``emotiv14_histn``, ``deap32``,
      ``seed62``, ``dreamer``, ...) or an MNE montage name (``biosemi32``,
      ``GSN-HydroCel-64_1.0``), resolved by :func:`hierarchy_for`;
    * ``{montage: NAME, channels: [...], n_regions: k}`` (``channels`` and
      ``n_regions`` optional): :func:`hierarchy_for` of the channels (default:
      all of the montage's) with the montage's positions, or with
      ``n_regions`` :func:`hierarchy_from_positions` into that many regions;
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
        :class:`RegionHierarchy` rejects (a channel in two regions, an edge
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


#: Name of the EEG global node at the global level of a :class:`PeripheralHierarchy`.
GLOBAL_NODE = "global"


@dataclass(frozen=True)
class PeripheralHierarchy:
    """A region hierarchy whose global level also holds peripheral-signal nodes.

    Levels: channels -> regions (``hierarchy``) -> global, and at the global level
    one node per peripheral modality (``peripheral``, e.g. ECG, EDA) joined to
    the EEG global node (a star, :meth:`global_adjacency`).

    How a model consumes it: pool channels into regions and regions into the
    EEG global node as usual (e.g. HiSTN's attention collapse), giving one
    vector ``g`` per window; embed each peripheral modality's feature vector of
    the same window (heart-rate/HRV or EDA features from
    :mod:`biosig.features.peripheral`) to the width of ``g`` with its own
    layer; stack ``[g, ecg, eda]`` in the order of :attr:`global_nodes` as the
    global-level node features and run message passing with
    :meth:`global_adjacency`; read out the updated global node (or the mean of
    all global-level nodes) for classification. A window whose peripheral
    features are missing can drop that node by zeroing its row and column.
    """

    hierarchy: RegionHierarchy
    peripheral: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.peripheral:
            raise ConfigError("with_peripheral needs at least one peripheral signal name")
        taken = {GLOBAL_NODE, *self.hierarchy.channels, *self.hierarchy.region_names}
        for p in self.peripheral:
            if p in taken:
                raise ConfigError(f"peripheral node {p!r} clashes with a channel, region or the global node")
            taken.add(p)

    @property
    def global_nodes(self) -> tuple[str, ...]:
        """Global-level nodes: the EEG global node, then the peripheral ones."""
        return (GLOBAL_NODE, *self.peripheral)

    def global_adjacency(self) -> np.ndarray:
        """Symmetric 0/1 star ``(1 + n_peripheral, 1 + n_peripheral)``: each peripheral node to the global node."""
        adj = np.zeros((len(self.global_nodes),) * 2)
        adj[0, 1:] = adj[1:, 0] = 1.0
        return adj


def with_peripheral(hierarchy: RegionHierarchy, names: Sequence[str] = ("ecg", "eda")) -> PeripheralHierarchy:
    """Add peripheral signals as extra global-level nodes (see :class:`PeripheralHierarchy`)."""
    return PeripheralHierarchy(hierarchy, tuple(names))
