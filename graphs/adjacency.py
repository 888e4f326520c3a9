"""Channel graphs as dense adjacency matrices: spatial, hemispheric and learnable.

Spatial graphs take 3-D electrode positions in metres
(:func:`graphs.positions.electrode_positions`); all return symmetric
``(n_channels, n_channels)`` arrays in the channels' order. Functional
(per-window) graphs are in :mod:`graphs.functional`, conversion to PyTorch
Geometric in :mod:`graphs.pyg`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial.distance import cdist
from torch import nn

from biosig.errors import ConfigError, DataError
from graphs.positions import canonical_name

#: Calibration constant delta (m^2) of RGNN's ``min(1, delta / d^2)``: TorchEEG's default.
RGNN_DELTA: float = 0.00056
#: The smaller delta TorchEEG uses for DREAMER's sparser 14-channel cap.
RGNN_DELTA_DREAMER: float = 0.00035
#: RGNN's "global" left/right pairs (10-10 names), whose initial weight is lowered by 1.
RGNN_GLOBAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("FP1", "FP2"), ("AF3", "AF4"), ("F5", "F6"), ("FC5", "FC6"), ("C5", "C6"),
    ("CP5", "CP6"), ("P5", "P6"), ("PO5", "PO6"), ("O1", "O2"),
)  # fmt: skip

# 10-05 site names: a row prefix, then a number (odd left, even right) or z (midline), optional "h".
_SITE = re.compile(
    r"^(fp|afp|aff|af|ffc|fft|fc|ft|ftt|fcc|f|ttp|tp|tpp|t|ccp|cp|cpp|c|ppo|po|poo|p|oi|o|i|cb|nfp|n|a|m)(\d+|z)(h?)$"
)


def _distances(positions: np.ndarray) -> np.ndarray:
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[1] != 3 or not np.isfinite(positions).all():
        raise DataError(f"positions must be finite, shape (n_channels, 3) in metres, got {positions.shape}")
    return cdist(positions, positions)


def knn_adjacency(positions: np.ndarray, k: int) -> np.ndarray:
    """0/1 graph joining each channel to its ``k`` nearest channels (3-D distance), symmetrised by union.

    Parameters
    ----------
    positions
        ``(n_channels, 3)``, metres.
    k
        Neighbours per channel, ``1 <= k < n_channels``; ties broken by channel order.

    Returns
    -------
    np.ndarray
        ``(n_channels, n_channels)``, zero diagonal.
    """
    d = _distances(positions)
    n = len(d)
    if not 1 <= k < n:
        raise ConfigError(f"k must be between 1 and n_channels - 1 = {n - 1}, got {k}")
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    adj = np.zeros((n, n))
    adj[np.repeat(np.arange(n), k), nearest.ravel()] = 1.0
    return np.maximum(adj, adj.T)


def distance_adjacency(positions: np.ndarray, radius: float) -> np.ndarray:
    """0/1 graph joining channels at most ``radius`` metres apart (3-D), zero diagonal."""
    if radius <= 0:
        raise ConfigError(f"radius must be positive (metres), got {radius}")
    adj = (_distances(positions) <= radius).astype(float)
    np.fill_diagonal(adj, 0.0)
    return adj


def gaussian_adjacency(positions: np.ndarray, sigma: float, radius: float | None = None) -> np.ndarray:
    """Weights ``exp(-d^2 / (2 sigma^2))`` on 3-D distance ``d``, zero diagonal.

    Parameters
    ----------
    positions
        ``(n_channels, 3)``, metres.
    sigma
        Kernel width, metres.
    radius
        If given, pairs farther apart than this (metres) get weight 0.
    """
    if sigma <= 0:
        raise ConfigError(f"sigma must be positive (metres), got {sigma}")
    d = _distances(positions)
    adj = np.exp(-(d**2) / (2 * sigma**2))
    if radius is not None:
        adj[d > radius] = 0.0
    np.fill_diagonal(adj, 0.0)
    return adj


def rgnn_adjacency(
    positions: np.ndarray,
    ch_names: Sequence[str],
    delta: float = RGNN_DELTA,
    global_pairs: Sequence[tuple[str, str]] = RGNN_GLOBAL_PAIRS,
) -> np.ndarray:
    """RGNN's initial adjacency (Zhong et al. 2020): ``min(1, delta / d^2)``, global pairs minus 1.

    The diagonal is 1 (``d = 0``). Global pairs present in ``ch_names`` get
    ``A_ij - 1`` as in the RGNN paper (initial negative relations encode
    hemispheric asymmetry); TorchEEG's ``format_adj_matrix_from_standard``
    instead sets them to 1.

    Parameters
    ----------
    positions
        ``(n_channels, 3)``, metres.
    ch_names
        Names in the order of ``positions`` (matched case-insensitively to ``global_pairs``).
    delta
        Calibration constant, m^2: :data:`RGNN_DELTA`, or :data:`RGNN_DELTA_DREAMER` for DREAMER.
    global_pairs
        Name pairs to lower by 1.
    """
    if delta <= 0:
        raise ConfigError(f"delta must be positive (m^2), got {delta}")
    d = _distances(positions)
    if len(ch_names) != len(d):
        raise DataError(f"{len(ch_names)} channel names for {len(d)} positions")
    with np.errstate(divide="ignore"):
        adj = np.minimum(1.0, delta / d**2)
    index = {canonical_name(ch): i for i, ch in enumerate(ch_names)}
    for a, b in global_pairs:
        i, j = index.get(canonical_name(a)), index.get(canonical_name(b))
        if i is not None and j is not None:
            adj[i, j] -= 1.0
            adj[j, i] = adj[i, j]
    return adj


def site(name: str) -> tuple[str, str, str] | None:
    """Parse a 10-05 site name into ``(row prefix, number or "z", "h" or "")``, lower case; None if not one.

    >>> site("EEG FC5-REF")
    ('fc', '5', '')
    >>> site("E17") is None   # EGI net numbering is not a 10-05 name
    True
    """
    match = _SITE.match(canonical_name(name))
    return match.groups() if match else None


def hemisphere(name: str) -> str | None:
    """``"left"`` (odd number), ``"right"`` (even), ``"midline"`` (z), or None for a non-10-05 name."""
    parsed = site(name)
    if parsed is None:
        return None
    number = parsed[1]
    return "midline" if number == "z" else ("left" if int(number) % 2 else "right")


def hemispheric_pairs(ch_names: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs ``(left, right)`` of homologous channels, from the names alone.

    Homologues share the row prefix and suffix and have numbers ``2m - 1`` and
    ``2m`` (Fp1-Fp2, F7-F8, PO9h-PO10h, CB1-CB2); midline (z) and non-10-05
    names (EGI's E1...) have none. Pairs are ordered by the left channel's index.
    """
    index = {site(ch): i for i, ch in enumerate(ch_names) if site(ch) is not None}
    pairs = []
    for (prefix, number, suffix), i in index.items():
        if number != "z" and int(number) % 2:
            j = index.get((prefix, str(int(number) + 1), suffix))
            if j is not None:
                pairs.append((i, j))
    return sorted(pairs)


def hemispheric_adjacency(ch_names: Sequence[str]) -> np.ndarray:
    """0/1 graph joining each channel to its homologue in the other hemisphere (:func:`hemispheric_pairs`)."""
    adj = np.zeros((len(ch_names), len(ch_names)))
    for i, j in hemispheric_pairs(ch_names):
        adj[i, j] = adj[j, i] = 1.0
    return adj


def normalized_adjacency(adj: np.ndarray | torch.Tensor, eps: float = 1e-10) -> np.ndarray | torch.Tensor:
    """``D^-1/2 A D^-1/2`` with ``D`` the row sums, batched over leading axes; isolated nodes stay 0.

    Parameters
    ----------
    adj
        Non-negative weights, shape ``(..., n, n)``, NumPy or torch.
    eps
        Degrees below this count as 0.
    """
    degree = adj.sum(-1)
    if isinstance(adj, torch.Tensor):
        inv = torch.where(degree > eps, degree.clamp_min(eps).rsqrt(), torch.zeros_like(degree))
    else:
        inv = np.where(degree > eps, 1.0 / np.sqrt(np.maximum(degree, eps)), 0.0)
    return inv[..., :, None] * adj * inv[..., None, :]


class LearnableAdjacency(nn.Module):
    """DGCNN's learnable channel graph: a free symmetric matrix, ReLU, ``D^-1/2 A D^-1/2``.

    The parameter ``weight`` is symmetrised as ``(W + W^T) / 2`` on every call,
    so the graph stays undirected while training updates all entries.

    Parameters
    ----------
    n_channels
        Number of nodes.
    init
        Initial ``(n_channels, n_channels)`` adjacency (e.g. a spatial graph);
        ``None`` draws Xavier-uniform weights as DGCNN does.
    seed
        Seed of the Xavier draw.
    """

    def __init__(self, n_channels: int, init: np.ndarray | None = None, seed: int = 0) -> None:
        super().__init__()
        if init is None:
            weight = torch.empty(n_channels, n_channels)
            nn.init.xavier_uniform_(weight, generator=torch.Generator().manual_seed(seed))
        else:
            weight = torch.as_tensor(np.asarray(init), dtype=torch.float32)
            if weight.shape != (n_channels, n_channels):
                shape = (n_channels, n_channels)
                raise ConfigError(f"init adjacency has shape {tuple(weight.shape)}, expected {shape}")
        self.weight = nn.Parameter(weight)

    def forward(self) -> torch.Tensor:
        """The normalised adjacency, ``(n_channels, n_channels)``."""
        return normalized_adjacency(torch.relu((self.weight + self.weight.T) / 2))
