"""PyTorch Geometric message passing for the hierarchical GNN: graphs as edge lists, HiSTN's scalar Chebyshev conv, PyG convs by name.

Node features here are *window-major*, as PyG batches them: ``(n_windows * n_nodes, n_features)``,
window ``b``'s node ``i`` at row ``b * n_nodes + i``. An edge from node ``i`` to
node ``j`` carries the weight of adjacency entry ``[i, j]`` (the convention of
:func:`graphs.pyg.to_pyg`); a message ``i -> j`` updates ``j``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import ChebConv, GATConv, GCNConv, GINConv, MessagePassing, SAGEConv

from biosig.errors import ConfigError

from .graph_filters import scaled_laplacian

#: Convolutions that read ``edge_weight``; GAT, GIN and SAGE use the edges only.
WEIGHTED_CONVS = frozenset({"cheb_scalar", "cheb", "gcn"})


def dense_to_edges(adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge list of a batch of dense graphs ``(n_windows, n, n)``: ``edge_index`` ``(2, n_edges)``, ``edge_weight`` ``(n_edges,)``.

    Non-zero entries only (self loops and negative weights kept); node ``i`` of
    window ``b`` is row ``b * n + i``. ``edge_weight`` keeps the autograd graph of ``adjacency``.
    """
    n = adjacency.shape[-1]
    w, i, j = adjacency.nonzero(as_tuple=True)
    return torch.stack([i + w * n, j + w * n]), adjacency[w, i, j]


def block_scaled_laplacian(adjacency: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """HiSTN's operator: :func:`~graphs.models.layers.scaled_laplacian` of each diagonal block, ``(n, n)``.

    ``sizes`` are the consecutive blocks (regions); entries outside the blocks are ignored.
    """
    out = np.zeros_like(adjacency, dtype=float)
    start = 0
    for size in sizes:
        part = slice(start, start + size)
        out[part, part] = scaled_laplacian(adjacency[part, part])
        start += size
    return out


def block_scaled_laplacian_torch(adjacency: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """:func:`block_scaled_laplacian` of a batch ``(n_windows, n, n)`` in torch (differentiable; per-window graphs)."""
    out = torch.zeros_like(adjacency)
    start = 0
    for size in sizes:
        part = slice(start, start + size)
        a = adjacency[:, part, part]
        lap = torch.diag_embed(a.sum(-1)) - a
        lambda_max = torch.linalg.eigvalsh(lap).abs().amax(-1)[:, None, None]
        eye = torch.eye(size, dtype=a.dtype, device=a.device)
        out[:, part, part] = torch.where(lambda_max > 0, 2.0 * lap / lambda_max.clamp_min(1e-12) - eye, -eye)
        start += size
    return out


class ScalarChebConv(MessagePassing):
    """HiSTN's Chebyshev filter as message passing: ``out = sum_k w_(k, g) T_k(L~) x``, scalar weights per order and group.

    The edges carry the entries of the scaled Laplacian ``L~`` (e.g.
    :func:`block_scaled_laplacian`, self loops included); ``T_k`` applies
    through the recursion ``T_k x = 2 L~ T_(k-1) x - T_(k-2) x``. Every node
    belongs to a group (HiSTN: its region) with its own weights. PyG's
    ``ChebConv`` learns an ``in x out`` matrix per order and fixes the
    normalised Laplacian; HiSTN learns one scalar per order on the
    combinatorial Laplacian of each region, so features (time steps) are not
    mixed. With the block operator this equals
    :class:`~graphs.models.layers.ChebyshevFilter` on the same weights, whose
    flat layout (group by group, orders ``0..K_g``) :attr:`weight` shares.

    Parameters
    ----------
    sizes
        Nodes of each group, consecutive in node order; a graph has ``sum(sizes)`` nodes.
    orders
        Polynomial order per group, each >= 1.
    """

    def __init__(self, sizes: Sequence[int], orders: Sequence[int]) -> None:
        super().__init__(aggr="add")
        self.orders = tuple(orders)
        n_weights = sum(k + 1 for k in self.orders)
        index = np.full((sum(sizes), max(self.orders) + 1), n_weights)  # n_weights: an appended zero
        node, first = 0, 0
        for size, order in zip(sizes, self.orders, strict=True):
            index[node : node + size, : order + 1] = first + np.arange(order + 1)
            node, first = node + size, first + order + 1
        self.register_buffer("index", torch.tensor(index), persistent=False)
        self.weight = nn.Parameter(torch.empty(n_weights))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras' glorot_uniform per group, as :class:`~graphs.models.layers.ChebyshevFilter`."""
        with torch.no_grad():
            for part, order in zip(self.weight.split([k + 1 for k in self.orders]), self.orders, strict=True):
                bound = math.sqrt(3.0 / (order + 1))
                part.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        """Filtered node features ``(n_windows * n_nodes, n_features)`` from the same shape."""
        n_nodes = len(self.index)
        coeff = torch.cat([self.weight, self.weight.new_zeros(1)])[self.index]  # (n_nodes, K + 1)

        def weighted(tx: torch.Tensor, k: int) -> torch.Tensor:
            return (tx.view(-1, n_nodes, tx.shape[-1]) * coeff[:, k, None]).view(tx.shape)

        previous, current = x, self.propagate(edge_index, x=x, edge_weight=edge_weight)
        out = weighted(previous, 0) + weighted(current, 1)
        for k in range(2, coeff.shape[1]):
            previous, current = current, 2.0 * self.propagate(edge_index, x=current, edge_weight=edge_weight) - previous
            out = out + weighted(current, k)
        return out

    def message(self, x_j: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        return edge_weight[:, None] * x_j


def make_channel_conv(
    name: str, width: int, hops: int, sizes: Sequence[int], orders: Sequence[int]
) -> nn.Module:
    """The channel-level convolution ``name`` (``cheb_scalar``, ``cheb``, ``gcn``, ``gat``, ``gin``, ``sage``), ``width -> width``.

    ``hops``: Chebyshev order of ``cheb`` (``K = hops + 1`` terms); ``sizes`` and
    ``orders``: the groups and per-group orders of ``cheb_scalar``. GAT has one
    head; GIN's network is ``Linear-ReLU-Linear``.
    """
    if name == "cheb_scalar":
        return ScalarChebConv(sizes, orders)
    if name == "cheb":
        return ChebConv(width, width, K=hops + 1)
    if name == "gcn":
        return GCNConv(width, width)
    if name == "gat":
        return GATConv(width, width, heads=1)
    if name == "gin":
        return GINConv(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)))
    if name == "sage":
        return SAGEConv(width, width)
    raise ConfigError(f"unknown channel convolution {name!r}; known: cheb_scalar, cheb, gcn, gat, gin, sage")


def run_conv(
    conv: nn.Module, name: str, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor
) -> torch.Tensor:
    """Apply a conv built by :func:`make_channel_conv`, passing ``edge_weight`` to those that read it."""
    if name in WEIGHTED_CONVS:
        return conv(x, edge_index, edge_weight)
    return conv(x, edge_index)
