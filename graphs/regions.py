"""Brain-region hierarchies: channels -> regions -> global, as used by hierarchical GNNs.

A :class:`RegionHierarchy` names the channel order a model expects, the
regions (each a tuple of channels, in that order), the undirected edges
between channels inside a region, and the undirected edges between regions.
Adjacency matrices derive from it, so one definition serves every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biosig.errors import ConfigError


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
