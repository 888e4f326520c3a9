"""The channel graphs a :class:`~graphs.models.HierarchicalGNN` passes messages on, as PyG edge lists.

Four kinds (config ``graph``): the hierarchy's intra-region edges (HiSTN's graph),
the spatial k-nearest-neighbour graph of the electrode positions
(:func:`graphs.adjacency.knn_adjacency`), the functional graph of each window
(``|Pearson|`` without self loops, :func:`graphs.functional.pearson_adjacency`)
and a learnable graph (:class:`graphs.adjacency.LearnableAdjacency`). A PyG batch
(:func:`graphs.pyg.to_pyg`) brings its own graph instead. With ``within_regions``
only edges inside a region are kept. The operator on the edges is the adjacency
itself, or for ``cheb_scalar`` HiSTN's per-region scaled Laplacian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_adj

from graphs.adjacency import LearnableAdjacency, knn_adjacency
from graphs.functional import pearson_adjacency
from graphs.positions import electrode_positions

from .layers.pyg_convs import block_scaled_laplacian, block_scaled_laplacian_torch, dense_to_edges

if TYPE_CHECKING:
    from .hierarchical_gnn import HierarchicalGNNConfig


class ChannelGraph(nn.Module):
    """Builds the edge list of the channel graph for a batch of windows (see the module docstring).

    Parameters
    ----------
    config
        The model's config: ``hierarchy``, ``graph``, ``spatial_k``, ``within_regions``, ``conv``.
    seed
        Seed of the learnable graph's Xavier draw.
    """

    def __init__(self, config: HierarchicalGNNConfig, seed: int = 0) -> None:
        super().__init__()
        hier = config.hierarchy
        self.kind = config.graph
        self.sizes = tuple(len(chs) for _, chs in hier.regions)
        self.laplacian = config.conv == "cheb_scalar"
        n = len(hier.channels)
        mask = hier.assignment() @ hier.assignment().T if config.within_regions else np.ones((n, n))
        self.register_buffer("mask", torch.tensor(mask, dtype=torch.float32), persistent=False)
        self.learnable = LearnableAdjacency(n, seed=seed) if self.kind == "learnable" else None
        static = None
        if self.kind == "hierarchy":
            static = hier.channel_adjacency()
        elif self.kind == "spatial":
            static = knn_adjacency(electrode_positions(hier.channels), config.spatial_k)
        if static is not None:
            static = static * mask
            # In float64 as HiSTN's ChebyshevFilter builds it, then float32.
            static = self._operator_numpy(static) if self.laplacian else static
        self.register_buffer(
            "static", None if static is None else torch.tensor(static, dtype=torch.float32), persistent=False
        )

    def _operator_numpy(self, adjacency: np.ndarray) -> np.ndarray:
        sizes = self.sizes if self.mask.min() == 0 else (len(adjacency),)
        return block_scaled_laplacian(adjacency, sizes)

    def _operator(self, adjacency: torch.Tensor) -> torch.Tensor:
        """``(n_windows, n, n)`` adjacency -> the operator the conv reads (masked; Laplacian for ``cheb_scalar``)."""
        adjacency = adjacency * self.mask
        if not self.laplacian:
            return adjacency
        sizes = self.sizes if self.mask.min() == 0 else (adjacency.shape[-1],)
        return block_scaled_laplacian_torch(adjacency, sizes)

    def forward(self, x: torch.Tensor, batch: Batch | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``edge_index`` ``(2, n_edges)`` and ``edge_weight`` ``(n_edges,)`` for windows ``x`` ``(n_windows, n_channels, n_times)``.

        ``batch``: a PyG batch whose edges (weights ``edge_weight``, 1 if absent)
        give the graph, except for a learnable graph, which is the model's own.
        """
        n_windows, n = x.shape[0], x.shape[1]
        if batch is not None and self.learnable is None:
            weight = getattr(batch, "edge_weight", None)
            dense = to_dense_adj(batch.edge_index, batch.batch, weight, max_num_nodes=n, batch_size=n_windows)
            return dense_to_edges(self._operator(dense))
        if self.static is not None:
            return dense_to_edges(self.static.expand(n_windows, n, n))
        if self.learnable is not None:
            return dense_to_edges(self._operator(self.learnable()[None]).expand(n_windows, n, n))
        pearson = np.abs(pearson_adjacency(x.detach().cpu().double().numpy()))
        pearson[:, np.arange(n), np.arange(n)] = 0.0
        return dense_to_edges(self._operator(torch.tensor(pearson, dtype=x.dtype, device=x.device)))
