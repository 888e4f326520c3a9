"""The region hierarchy type: channels -> regions -> global, with its adjacency matrices.

A :class:`RegionHierarchy` names the channel order a model expects, the
regions (each a tuple of channels, in that order), the undirected edges
between channels inside a region, and the undirected edges between regions.
Adjacency matrices derive from it, so one definition serves every model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biosig.errors import ConfigError, DataError
from graphs.positions import canonical_name


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
