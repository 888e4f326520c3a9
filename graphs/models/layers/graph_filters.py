"""Graph polynomial filters: scaled Laplacian, Chebyshev basis and HiSTN's per-region Chebyshev filter.

Filtered tensors are channel-major ``(n_channels, ...)`` (see :mod:`graphs.models.layers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


def scaled_laplacian(adjacency: np.ndarray) -> np.ndarray:
    """``L~ = 2 L / lambda_max - I`` with the combinatorial Laplacian ``L = D - A``.

    Parameters
    ----------
    adjacency
        Symmetric ``(n, n)`` adjacency without self loops.

    Returns
    -------
    np.ndarray
        ``(n, n)``. A graph without edges (e.g. a one-channel region) has
        ``L = 0``; its limit ``L~ = -I`` is returned instead of dividing by 0.
    """
    laplacian = np.diag(adjacency.sum(axis=1)) - adjacency
    lambda_max = float(np.abs(np.linalg.eigvalsh(laplacian)).max()) if len(adjacency) else 0.0
    if lambda_max == 0.0:
        return -np.eye(len(adjacency))
    return 2.0 * laplacian / lambda_max - np.eye(len(adjacency))


def chebyshev_basis(adjacency: np.ndarray, order: int) -> np.ndarray:
    """Chebyshev polynomials ``T_0..T_order`` of the scaled Laplacian, ``(order + 1, n, n)``.

    ``T_0 = I``, ``T_1 = L~``, ``T_k = 2 L~ T_(k-1) - T_(k-2)``.
    """
    lap = scaled_laplacian(adjacency)
    basis = [np.eye(len(adjacency)), lap]
    for _ in range(order - 1):
        basis.append(2.0 * lap @ basis[-1] - basis[-2])
    return np.stack(basis[: order + 1])


class ChebyshevFilter(nn.Module):
    """HiSTN's message passing: ``X @ sum_k w_k T_k(L~)``, one scalar ``w_k`` per order and graph.

    Several disjoint graphs (HiSTN's regions) are filtered at once through one
    block-diagonal matrix. PyG's ``ChebConv`` learns an ``in x out`` matrix
    per order on sparse edges; HiSTN learns scalars on tiny dense graphs, so
    this is written here.

    Parameters
    ----------
    adjacencies
        One symmetric 0/1 adjacency per graph; their nodes, in order, are the
        channels of the filtered tensor.
    orders
        Polynomial order (HiSTN's ``hops``) per graph, each >= 1.
    """

    def __init__(self, adjacencies: Sequence[np.ndarray], orders: Sequence[int]) -> None:
        super().__init__()
        n = sum(len(a) for a in adjacencies)
        blocks = []
        start = 0
        for adj, order in zip(adjacencies, orders, strict=True):
            for poly in chebyshev_basis(adj, order):
                block = np.zeros((n, n))
                block[start : start + len(adj), start : start + len(adj)] = poly
                blocks.append(block)
            start += len(adj)
        self.register_buffer("basis", torch.tensor(np.stack(blocks), dtype=torch.float32), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(blocks)))
        self.orders = tuple(orders)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras' glorot_uniform for a vector of length ``K + 1``: U(-sqrt(3/(K+1)), +sqrt(3/(K+1))) per graph."""
        with torch.no_grad():
            for part, order in zip(self.weight.split([k + 1 for k in self.orders]), self.orders, strict=True):
                bound = math.sqrt(3.0 / (order + 1))
                part.uniform_(-bound, bound)

    def filter_matrix(self) -> torch.Tensor:
        """The block-diagonal filter ``P = sum_k w_k T_k``, ``(n_nodes, n_nodes)``."""
        return torch.einsum("k,kij->ij", self.weight, self.basis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter a channel-major tensor ``(n_nodes, ...)``: ``out[j] = sum_i P[i, j] x[i]``."""
        flat = x.reshape(x.shape[0], -1)
        return (self.filter_matrix().T @ flat).reshape(x.shape)
