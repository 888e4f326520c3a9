"""Peripheral signals (ECG, EDA) as extra nodes at the global level of a region hierarchy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biosig.errors import ConfigError

from .hierarchy import RegionHierarchy


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
