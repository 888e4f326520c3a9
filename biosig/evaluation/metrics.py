"""Classification scores averaged over subjects, with pooled figures and a confusion matrix."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray, labels: Sequence[int]
) -> dict:
    """Scores of out-of-fold predictions.

    ``f1_weighted``, ``accuracy`` and ``balanced_accuracy`` are means over
    subjects of each subject's score (``*_std`` their spread);
    ``pooled_f1_weighted`` pools all windows; ``per_subject`` maps subject to
    its weighted F1; ``confusion_matrix`` holds ``labels`` and the pooled
    matrix (rows true, columns predicted).
    """
    y_true, y_pred, subjects = map(np.asarray, (y_true, y_pred, subjects))
    per_subject: dict[str, dict[str, float]] = {}
    for subject in sorted(np.unique(subjects)):
        rows = subjects == subject
        per_subject[str(subject)] = {
            "f1_weighted": float(f1_score(y_true[rows], y_pred[rows], average="weighted", zero_division=0)),
            "accuracy": float(accuracy_score(y_true[rows], y_pred[rows])),
            "balanced_accuracy": _balanced_accuracy(y_true[rows], y_pred[rows]),
        }
    out: dict = {}
    for metric in ("f1_weighted", "accuracy", "balanced_accuracy"):
        values = np.array([s[metric] for s in per_subject.values()])
        out[metric] = float(values.mean())
        out[f"{metric}_std"] = float(values.std())
    out["pooled_f1_weighted"] = float(f1_score(y_true, y_pred, average="weighted", zero_division=0))
    out["n_windows"] = int(len(y_true))
    out["per_subject"] = {s: v["f1_weighted"] for s, v in per_subject.items()}
    out["confusion_matrix"] = {
        "labels": [int(v) for v in labels],
        "matrix": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
    }
    return out


def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    with warnings.catch_warnings():
        # A class predicted but absent from this subject's truth is not an error here.
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y_true, y_pred))
