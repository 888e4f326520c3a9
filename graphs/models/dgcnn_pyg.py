"""DGCNN on PyTorch Geometric: the dense :class:`~graphs.models.DGCNN`'s weights, its graph conv as message passing.

DGCNN's graph convolution ``relu(sum_k A^^k X W_k)`` (supports ``[I, A^, A^2, ...]``
of its learnable adjacency ``A^ = D^-1/2 relu(A) D^-1/2``) runs here on the
PyG batch: each window is a complete graph whose edge ``j -> i`` carries
``A^[i, j]`` (so that ``(A^ X)_i = sum_j A^[i, j] X_j``), and ``A^^k X`` comes
from ``k`` rounds of messages (:class:`PowerConv`). Batch norm, dense layers,
peripheral fusion and all weights are the wrapped DGCNN's, so both paths
compute the same function (checked to 1e-5 in the tests).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import MessagePassing

from biosig.errors import DataError

from .dgcnn import DGCNN
from .layers import check_peripheral
from .layers.pyg_convs import dense_to_edges


class PowerConv(MessagePassing):
    """``sum_k (A^k X) W_k`` on weighted edges: DGCNN's graph conv; ``weights`` ``(n_supports, in, out)``, ``A^0 = I``."""

    def __init__(self) -> None:
        super().__init__(aggr="add")

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """``(n_nodes, out)`` from node features ``x`` ``(n_nodes, in)``."""
        power, out = x, x @ weights[0]
        for w in weights[1:]:
            power = self.propagate(edge_index, x=power, edge_weight=edge_weight)
            out = out + power @ w
        return out

    def message(self, x_j: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        return edge_weight[:, None] * x_j


class DGCNNOnPyG(nn.Module):
    """A :class:`~graphs.models.DGCNN` evaluated on PyG batches, sharing its parameters.

    Input: a batch from :func:`graphs.pyg.to_pyg` with DE features as node
    features ``(n_windows * n_channels, n_bands)``; its own edges are ignored,
    since DGCNN's graph is the learnt one. Output ``(n_windows, n_outputs)``.
    """

    def __init__(self, model: DGCNN) -> None:
        super().__init__()
        self.model = model
        self.conv = PowerConv()

    def forward(self, batch: Batch, peripheral: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``(n_windows, n_outputs)``; ``peripheral`` as for the dense DGCNN."""
        model, cfg = self.model, self.model.config
        n_windows = batch.num_graphs
        if batch.x.shape != (n_windows * cfg.n_channels, cfg.n_bands):
            raise DataError(
                f"DGCNN expects graphs of {cfg.n_channels} nodes x {cfg.n_bands} features; "
                f"got node features {tuple(batch.x.shape)} for {n_windows} graphs"
            )
        check_peripheral(model, model.peripheral_fusion, batch.x.view(n_windows, -1), peripheral)
        x = model.bn(batch.x)
        adjacency = model.normalized_adjacency().T  # [j, i] = A^[i, j]: the weight of the edge j -> i
        edge_index, edge_weight = dense_to_edges(adjacency.expand(n_windows, *adjacency.shape))
        graph = F.relu(self.conv(x, edge_index, edge_weight, model.graph_weights))
        global_node = F.relu(model.fc1(graph.view(n_windows, -1)))
        if model.peripheral_fusion is not None:
            global_node = model.peripheral_fusion(global_node, peripheral)
        return model.fc2(global_node)
