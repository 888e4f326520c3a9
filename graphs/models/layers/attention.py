"""Attention pooling over fixed groups of channels: grouped softmax, HiSTN's region attention and its frozen form.

Inputs are channel-major time averages ``(n_channels, n_batch)`` (see :mod:`graphs.models.layers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .keras_weights import glorot_uniform_


class GroupSoftmax(nn.Module):
    """Softmax within fixed groups of contiguous channels, and each group's weighted sum.

    Hand-written: torch has no segmented softmax. The groups never change, so
    the logits are gathered into a precomputed ``(group, widest)`` grid padded
    with -inf, soft-maxed along the grid's rows and gathered back.

    Parameters
    ----------
    sizes
        Number of channels of each group, in channel order.
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        n, n_groups, widest = sum(sizes), len(sizes), max(sizes)
        grid = np.full((n_groups, widest), n)  # index n: the appended -inf column
        starts = np.cumsum((0, *sizes))
        membership = np.zeros((n_groups, n))
        for g, size in enumerate(sizes):
            grid[g, :size] = np.arange(starts[g], starts[g] + size)
            membership[g, starts[g] : starts[g + 1]] = 1.0
        self.register_buffer("grid", torch.tensor(grid), persistent=False)
        self.register_buffer("ungrid", torch.tensor(np.flatnonzero(grid.ravel() < n)), persistent=False)
        # (n_groups, n_channels), 1 where the channel belongs to the group.
        self.register_buffer("membership", torch.tensor(membership, dtype=torch.float32), persistent=False)

    def softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """Weights ``(n_channels, n_batch)`` from logits ``(n_batch, n_channels)``; each group's are positive and sum to 1."""
        padded = torch.cat([logits, logits.new_full((len(logits), 1), -math.inf)], dim=1)[:, self.grid]
        return padded.softmax(dim=2).flatten(1)[:, self.ungrid].T

    def attend(self, logits: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """Group signals ``(n_groups, n_batch)``: channels ``pooled`` ``(n_channels, n_batch)`` weighted by the softmax of ``logits``."""
        return self.membership @ (self.softmax(logits) * pooled)


class RegionAttention(nn.Module):
    """Per group of contiguous channels, ``Dense(n, softmax)`` attention weights over its channels.

    HiSTN's ``Region_fusion`` (and, with one group of all regions,
    ``Region_collapse``): each group's time-averaged channel vector goes
    through its own ``n x n`` dense layer with bias and a softmax; the group's
    signal is the weighted sum of its channels. ``n^2 + n`` parameters per group.

    Parameters
    ----------
    sizes
        Number of channels of each group, in channel order.
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        self.kernels = nn.ParameterList([nn.Parameter(torch.empty(s, s)) for s in sizes])
        self.bias = nn.Parameter(torch.zeros(sum(sizes)))
        self.groups = GroupSoftmax(sizes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras' Dense defaults: glorot_uniform kernels, zero bias."""
        for kernel in self.kernels:
            glorot_uniform_(kernel, len(kernel), len(kernel))
        with torch.no_grad():
            self.bias.zero_()

    def weights(self, pooled: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(n_channels, n_batch)`` from time-averaged channels ``(n_channels, n_batch)``.

        The weights of each group are positive and sum to 1.
        """
        return self.groups.softmax(self.logits(pooled))

    def logits(self, pooled: torch.Tensor) -> torch.Tensor:
        """Dense-layer outputs ``(n_batch, n_channels)`` before the softmax, from ``(n_channels, n_batch)``."""
        return torch.addmm(self.bias, pooled.T, torch.block_diag(*self.kernels))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Time-averaged group signals ``(n_groups, n_batch)`` from time-averaged channels ``(n_channels, n_batch)``.

        The attention weights depend on the time average only, so the time
        average of the weighted group signal is the weighted sum of the
        channels' time averages, exactly.
        """
        return self.groups.attend(self.logits(pooled), pooled)


class FrozenAttention:
    """Several :class:`RegionAttention` layers evaluated as one on their stacked inputs, weights fixed.

    For inference without gradients: the block-diagonal kernel of all the
    layers' groups is built once, and one product and one grouped softmax
    replace a pass per layer. Input: the layers' inputs stacked along the
    channel axis ``(sum n_channels, n_batch)``; output: their group signals
    stacked ``(sum n_groups, n_batch)``, equal to calling each layer on its part.
    Rebuild it when the layers' weights change.
    """

    def __init__(self, layers: Sequence[RegionAttention]) -> None:
        kernels = [kernel.detach() for layer in layers for kernel in layer.kernels]
        self.kernel = torch.block_diag(*kernels)
        self.bias = torch.cat([layer.bias.detach() for layer in layers])
        self.groups = GroupSoftmax([len(k) for k in kernels]).to(self.bias.device)

    def __call__(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.groups.attend(torch.addmm(self.bias, pooled.T, self.kernel), pooled)
