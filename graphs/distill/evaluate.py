"""Student evaluation: 8-way and present-only classification metrics, agreement with the prototype grid.

Classification (:func:`classification_metrics`), following the paper's
reporting (field notes section 2):

* ``accuracy``;
* ``macro_f1``: F1 averaged over *all* classes of the task (8-way); a class
  absent from both the targets and the predictions counts as F1 = 0, which
  is what the paper's "8-way" number penalises on target sets lacking classes;
* ``balanced_accuracy``: mean recall over the classes present in the targets
  (scikit-learn's definition);
* ``present_macro_f1``: F1 averaged over the classes present in the targets only.

Grid agreement (:func:`grid_agreement`): each face's projection is assigned
to the prototype of highest cosine; compared with its class's circumplex
cell this gives the exact-cell rate, the within-one-level rate (Chebyshev
distance <= 1 on the grid) and the mean absolute level error of valence and
of arousal. A random cell would give an exact rate of 1/25 = 0.04. Only
students trained with Proto-KD have a projection shaped towards the grid;
for the others the numbers measure an untrained head, i.e. a chance level.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

from .circumplex import GRID_LEVELS


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Metrics of the module docstring plus the confusion matrix ``(n_classes, n_classes)`` (rows: truth)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.arange(n_classes)
    present = np.unique(y_true)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "balanced_accuracy": _balanced_accuracy(y_true, y_pred),
        "present_macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "present_classes": present.tolist(),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    with warnings.catch_warnings():
        # predictions of classes absent from the targets are expected on cross-dataset sets
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(y_true, y_pred))


def nearest_cells(projection: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Grid cell ``(n, 2)`` int64 ``[valence level, arousal level]`` of each projection's nearest prototype (cosine).

    Parameters
    ----------
    projection
        ``(n, D)`` student projections.
    prototypes
        ``(25, D)`` unit prototypes, row ``valence * 5 + arousal``.
    """
    h = projection / np.maximum(np.linalg.norm(projection, axis=1, keepdims=True), 1e-12)
    flat = (h @ prototypes.T).argmax(axis=1)
    return np.stack([flat // GRID_LEVELS, flat % GRID_LEVELS], axis=1).astype(np.int64)


def grid_agreement(projection: np.ndarray, true_cells: np.ndarray, prototypes: np.ndarray) -> dict[str, float]:
    """Agreement of the projections' nearest prototypes with the true cells ``(n, 2)`` (module docstring)."""
    found = nearest_cells(projection, prototypes)
    diff = np.abs(found - np.asarray(true_cells))
    return {
        "cell_accuracy": float((diff.max(axis=1) == 0).mean()),
        "within_one": float((diff.max(axis=1) <= 1).mean()),
        "valence_mae_levels": float(diff[:, 0].mean()),
        "arousal_mae_levels": float(diff[:, 1].mean()),
    }
