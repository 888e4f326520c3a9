"""Reusable layers of the model zoo: graph polynomial filters, region attention, max-norm, peripheral nodes.

Tensors inside these layers (except :class:`PeripheralFusion`, which works on
per-window vectors) are *channel-major*: ``(n_channels, ...)`` with the
EEG channel (graph node) first. Channel mixing is then one matrix product over
a ``(n_channels, n_batch * n_times)`` view, and per-channel temporal filters
broadcast a ``(n_channels, 1, 1)`` weight, which is what makes HiSTN fast on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import AfterValidator, BeforeValidator, Field
from torch import nn

from biosig.errors import ConfigError, DataError


def glorot_uniform_(tensor: torch.Tensor, fan_in: int, fan_out: int) -> torch.Tensor:
    """Keras' ``glorot_uniform`` with explicit fans: U(-a, a), ``a = sqrt(6 / (fan_in + fan_out))``.

    Keras computes fans from its own kernel layouts (e.g. a depthwise kernel
    ``(kh, kw, in, multiplier)``), which differ from torch's; giving them
    explicitly reproduces the published models' initial scales.
    """
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


def max_norm_(weight: torch.Tensor, max_value: float, dim: tuple[int, ...]) -> None:
    """Rescale ``weight`` in place so that its norm over ``dim`` is at most ``max_value``.

    Keras' ``MaxNorm`` formula, ``w * clip(n, 0, max) / (eps + n)`` with
    ``eps = 1e-7``, applied after each optimiser step as Keras applies
    constraints. ``dim=()`` takes the norm of each element alone, i.e. bounds
    ``|w|``: what Keras' default ``axis=0`` does when that kernel axis has length 1.
    """
    with torch.no_grad():
        norms = weight.abs() if not dim else torch.linalg.vector_norm(weight, dim=dim, keepdim=True)
        weight.mul_(norms.clamp(max=max_value) / (1e-7 + norms))


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


def depthwise_taps(
    x: torch.Tensor,
    weight: torch.Tensor,
    padding: Literal["valid", "same"],
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-channel short FIR (cross-correlation) along the last axis of a channel-major tensor.

    Parameters
    ----------
    x
        ``(n_channels, n_batch, n_times)``.
    weight
        ``(n_channels, n_taps)``.
    padding
        ``"valid"`` (``n_times - n_taps + 1`` outputs) or ``"same"`` (zero
        padding split as Keras/TensorFlow do: the extra zero on the right).
    bias
        Optional ``(n_channels,)`` added to the output.

    Notes
    -----
    One fused multiply-add per tap on the channel-major layout; on 2 CPU cores
    this is about 3x faster than ``conv1d(groups=n_channels)`` for 5 taps.
    """
    n_taps, n_times = weight.shape[1], x.shape[-1]
    n_out, left = (n_times - n_taps + 1, 0) if padding == "valid" else (n_times, (n_taps - 1) // 2)
    w = weight[:, :, None, None]
    # Tap `left` reaches every output sample in both modes, so it starts the sum.
    out = x[..., :n_out] * w[:, left] if bias is None else torch.addcmul(bias[:, None, None], x[..., :n_out], w[:, left])
    for k in range(n_taps):
        if k != left:
            lo, hi = max(0, left - k), min(n_out, n_times - k + left)
            out[..., lo:hi].addcmul_(x[..., lo + k - left : hi + k - left], w[:, k])
    return out


class ToeplitzDepthwise(nn.Module):
    """Per-channel long FIR with 'same' padding as one batched matrix product.

    A 64-tap depthwise convolution is slow through ``conv1d(groups=C)`` on
    CPU; as a product with each channel's banded Toeplitz matrix it runs on
    BLAS (measured about 3x faster on 2 cores for training batches). Building
    the matrices (one gather of ``n_channels x n_times²`` taps per call) only
    pays off over a batch: a few windows, as the live pipeline predicts them,
    go through the grouped convolution (64 channels x 128 samples, one window:
    HiSTN's forward 7 ms with the Toeplitz gather). Both paths compute the same
    sums (to float32 rounding).

    Parameters
    ----------
    n_taps
        Kernel length; 'same' zero padding puts ``(n_taps - 1) // 2`` zeros on
        the left, the rest on the right (TensorFlow's convention).
    n_times
        Signal length the Toeplitz index is built for.
    """

    #: Longer signals use a grouped convolution: the Toeplitz matrices grow as
    #: n_times² per channel (64 channels x 512 samples: 67 MB rebuilt per call).
    MAX_TOEPLITZ_TIMES = 256
    #: Batches smaller than this use the grouped convolution (see above).
    MIN_TOEPLITZ_BATCH = 8

    def __init__(self, n_taps: int, n_times: int) -> None:
        super().__init__()
        left = (n_taps - 1) // 2
        self.pad = (left, n_taps - 1 - left)
        if n_times > self.MAX_TOEPLITZ_TIMES:
            self.index = None
            return
        src, dst = np.meshgrid(np.arange(n_times), np.arange(n_times), indexing="ij")
        tap = src - dst + left
        # Out-of-band entries point at an appended zero tap (index n_taps).
        tap = np.where((tap >= 0) & (tap < n_taps), tap, n_taps)
        self.register_buffer("index", torch.tensor(tap), persistent=False)

    def forward(self, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """Filter ``x`` ``(n_channels, n_batch, n_times)`` with ``kernel`` ``(n_channels, n_taps)``.

        ``out[c, b, t] = sum_k kernel[c, k] * x[c, b, t + k - left] (+ bias[c])``, zeros outside.
        """
        if self.index is None or x.shape[1] < self.MIN_TOEPLITZ_BATCH:
            out = F.conv1d(F.pad(x.transpose(0, 1), self.pad), kernel[:, None, :], bias, groups=kernel.shape[0])
            return out.transpose(0, 1)
        padded = torch.cat([kernel, kernel.new_zeros(kernel.shape[0], 1)], dim=1)
        if bias is None:
            return torch.bmm(x, padded[:, self.index])
        return torch.baddbmm(bias[:, None, None], x, padded[:, self.index])


def _pairs(value: Any) -> Any:
    """Accept ``{name: n_features}`` (as YAML writes it) besides ``((name, n_features), ...)``."""
    return tuple(value.items()) if isinstance(value, Mapping) else value


def _distinct_names(nodes: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    names = [name for name, _ in nodes]
    if len(set(names)) != len(names):
        raise ValueError(f"peripheral node names must be distinct, got {names}")
    return nodes


#: Config type of a model's peripheral nodes: ``((name, n_features), ...)`` in the
#: column order of the peripheral input, e.g. ``(("ecg", 4), ("eda", 3))``; a
#: mapping ``{ecg: 4, eda: 3}`` is accepted too. Empty: an EEG-only model.
PeripheralNodes = Annotated[
    tuple[tuple[str, Annotated[int, Field(ge=1)]], ...],
    BeforeValidator(_pairs),
    AfterValidator(_distinct_names),
]


class PeripheralFusion(nn.Module):
    """Peripheral signals as extra global-level nodes (:class:`graphs.regions.PeripheralHierarchy`).

    Per window: the peripheral feature vector ``(n_features,)`` (columns node by
    node, as ``sizes`` says) is standardised by a BatchNorm without affine
    parameters (the features keep physical units, bpm, ms, µS, whose scales differ
    by 100x); each node's slice is embedded by its own ``Linear(n, width)``;
    the EEG global node ``g`` and the embeddings ``e_p`` are the global-level
    nodes ``H`` ``(1 + n_nodes, width)``, which exchange one round of sum
    messages over the star ``adjacency`` (GIN's update with eps = 0 and no MLP,
    since the embeddings are already learned): ``H' = H + A_b H``. The
    updated global node ``H'[0] = g + sum_p e_p`` over the nodes present is
    returned for the read-out.

    Missing data: NaN (or inf) marks a missing feature. A node with no finite
    feature in a window is missing there: its row and column of ``A_b`` are
    zeroed (as the :class:`~graphs.regions.PeripheralHierarchy` docstring
    suggests), so a window whose peripheral features are all missing returns
    ``g`` unchanged, exactly what the EEG-only model computes. A single missing
    feature of a present node is set to 0, the trial's baseline level of
    baseline-subtracted features, before the BatchNorm (whose statistics thus
    count it as 0 too). Hand-written: PyG's ``GINConv`` takes one graph for the
    whole batch, not a per-window mask, and the star has only a few nodes.

    Parameters
    ----------
    sizes
        Feature count of each peripheral node, in column order.
    width
        Width of the EEG global node's representation.
    adjacency
        Symmetric 0/1 adjacency ``(1 + n_nodes, 1 + n_nodes)`` of the global
        level, node 0 the EEG global node
        (:meth:`graphs.regions.PeripheralHierarchy.global_adjacency`).
    """

    def __init__(self, sizes: Sequence[int], width: int, adjacency: np.ndarray) -> None:
        super().__init__()
        if adjacency.shape != (len(sizes) + 1,) * 2:
            raise ConfigError(f"adjacency {adjacency.shape} does not fit 1 + {len(sizes)} global-level nodes")
        self.sizes = tuple(sizes)
        self.norm = nn.BatchNorm1d(sum(self.sizes), affine=False)
        self.embed = nn.ModuleList([nn.Linear(n, width) for n in self.sizes])
        self.register_buffer("adjacency", torch.tensor(adjacency, dtype=torch.float32), persistent=False)
        self.reset_parameters()

    @property
    def n_features(self) -> int:
        """Columns of the peripheral input."""
        return sum(self.sizes)

    def reset_parameters(self) -> None:
        """Keras' Dense defaults for the embeddings (glorot-uniform, zero bias); BatchNorm statistics reset."""
        self.norm.reset_running_stats()
        for layer in self.embed:
            glorot_uniform_(layer.weight, layer.in_features, layer.out_features)
            nn.init.zeros_(layer.bias)

    def forward(self, g: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Updated global node ``(n_batch, width)`` from ``g`` ``(n_batch, width)`` and ``features`` ``(n_batch, n_features)``."""
        finite = torch.isfinite(features)
        x = self.norm(torch.where(finite, features, torch.zeros_like(features)))
        embedded = [layer(part) for layer, part in zip(self.embed, x.split(self.sizes, dim=1), strict=True)]
        present = [part.any(dim=1) for part in finite.split(self.sizes, dim=1)]
        nodes = torch.stack([g, *embedded], dim=1)
        mask = torch.stack([torch.ones_like(present[0]), *present], dim=1).to(g.dtype)
        adjacency = self.adjacency * mask[:, :, None] * mask[:, None, :]
        # Only the global node is read out, so only its row of A_b H is computed.
        return g + (adjacency[:, :1] @ nodes)[:, 0]


def check_peripheral(
    model: nn.Module, fusion: PeripheralFusion | None, x: torch.Tensor, peripheral: torch.Tensor | None
) -> None:
    """Check a model's peripheral input: ``(n_batch, fusion.n_features)`` with peripheral nodes, None without.

    Raises
    ------
    DataError
        The input is missing, superfluous or of the wrong shape (the message names the expected shape).
    """
    name = type(model).__name__
    if fusion is None:
        if peripheral is not None:
            raise DataError(f"{name} has no peripheral nodes but got peripheral features {tuple(peripheral.shape)}")
        return
    expected = (len(x), fusion.n_features)
    if peripheral is None:
        raise DataError(f"{name} has peripheral nodes and needs peripheral features (batch={expected[0]}, feature={expected[1]})")
    if tuple(peripheral.shape) != expected:
        raise DataError(
            f"{name} expects peripheral features (batch={expected[0]}, feature={expected[1]}); got shape {tuple(peripheral.shape)}"
        )
