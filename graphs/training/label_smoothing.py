"""HiSTN's ordinal label smoothing and its one-hot ablation: the soft training targets of the deep models.

* :func:`smoothed_targets`: HiSTN's proposed smoothing (field notes section 1),
  a discretised Gaussian centred on the ordinal label,
  ``q_k ∝ exp(-(k - y)^2 / (2 sigma^2))`` for ``k = 0..n-1``, ``sigma = 0.5``;
  :func:`one_hot` is the ablation. Validation and test always use one-hot.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from biosig.errors import ConfigError
from biosig.evaluation.labels import check_classes

LabelMode = Literal["smoothing", "onehot"]


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """One-hot targets ``(n, n_classes)`` float64 of class indices ``(n,)``."""
    y = check_classes(y, n_classes)
    return np.eye(n_classes)[y]


def smoothed_targets(y: np.ndarray, n_classes: int, sigma: float = 0.5) -> np.ndarray:
    """HiSTN's ordinal label smoothing, ``(n, n_classes)`` float64, rows sum to 1.

    ``q_k = exp(-(k - y)^2 / (2 sigma^2)) / sum_j exp(-(j - y)^2 / (2 sigma^2))``.
    With ``sigma = 0.5`` and 5 classes, ``y = 2`` gives
    ``[0.0003, 0.1065, 0.7866, 0.1065, 0.0003]``.
    """
    if not sigma > 0:
        raise ConfigError(f"label smoothing sigma must be > 0, got {sigma}")
    y = check_classes(y, n_classes)
    k = np.arange(n_classes)
    logits = -((k[None, :] - y[:, None]) ** 2) / (2.0 * sigma**2)
    q = np.exp(logits - logits.max(axis=1, keepdims=True))
    return q / q.sum(axis=1, keepdims=True)


def soft_targets(y: np.ndarray, n_classes: int, mode: LabelMode, sigma: float = 0.5) -> np.ndarray:
    """Training targets of the configured label mode (``smoothing`` or ``onehot``)."""
    if mode == "smoothing":
        return smoothed_targets(y, n_classes, sigma)
    if mode == "onehot":
        return one_hot(y, n_classes)
    raise ConfigError(f"label_mode {mode!r} is not one of ['smoothing', 'onehot']")
