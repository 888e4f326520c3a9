"""Rows of model inputs (one array or a tuple of row-aligned arrays) and the draw of training batches."""

from __future__ import annotations

import numpy as np
import torch

from biosig.errors import DataError

#: Model inputs: one array ``(n, ...)``, or a tuple of arrays whose rows go
#: together (EEG windows and peripheral features ``(n, n_features)`` for models
#: with peripheral nodes); batches are passed as ``model(*arrays)``.
Inputs = np.ndarray | tuple[np.ndarray, ...]


def draw_batch(rng: np.random.Generator, y: np.ndarray, n: int, balanced: bool = True) -> np.ndarray:
    """Row indices ``(n,)`` of one training batch.

    Parameters
    ----------
    rng
        The training's random generator.
    y
        ``(n_rows,)`` class index of every training row.
    n
        Batch size.
    balanced
        HiSTN's sampling: for each sample a class uniformly among the classes
        present, then a row of that class uniformly; otherwise rows uniformly.
    """
    if not balanced:
        return rng.integers(0, len(y), n)
    classes, counts = np.unique(y, return_counts=True)
    order = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = rng.integers(0, len(classes), n)
    return order[starts[pick] + (rng.random(n) * counts[pick]).astype(np.int64)]


def n_rows(x: Inputs) -> int:
    """Rows of model inputs (see :data:`Inputs`).

    Raises
    ------
    DataError
        The arrays of a tuple have different numbers of rows.
    """
    if not isinstance(x, tuple):
        return len(x)
    counts = [len(a) for a in x]
    if len(set(counts)) != 1:
        raise DataError(f"model inputs have different numbers of rows: {counts}")
    return counts[0]


def take_rows(x: Inputs, rows: np.ndarray | slice) -> Inputs:
    """The same ``rows`` of every array of ``x``."""
    return tuple(a[rows] for a in x) if isinstance(x, tuple) else x[rows]


def as_tensors(x: Inputs, device: torch.device | str) -> tuple[torch.Tensor, ...]:
    """float32 tensors on ``device``, one per array of ``x``, for ``model(*tensors)``."""
    return tuple(torch.as_tensor(a, dtype=torch.float32).to(device) for a in (x if isinstance(x, tuple) else (x,)))
