"""Classification scores averaged over subjects, with pooled figures and a confusion matrix; ROC AUC of binary tasks."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, roc_auc_score


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


def subject_roc_auc(y_true: np.ndarray, positive: np.ndarray, subjects: np.ndarray) -> dict:
    """Area under the ROC curve of a binary task per subject, averaged over subjects.

    Parameters
    ----------
    y_true
        ``(n,)`` class indices 0/1 of the tested rows.
    positive
        ``(n,)`` predicted probability of class 1 (scikit-learn's ``roc_auc_score`` input).
    subjects
        ``(n,)`` subject id per row.

    Returns
    -------
    ``roc_auc`` (mean over the subjects where it is defined; NaN when none is),
    ``roc_auc_std``, ``roc_auc_per_subject`` (subject -> AUC, NaN where the
    subject's tested rows hold one class only) and ``roc_auc_undefined`` (those
    subjects, so a report can say why they are missing).
    """
    y_true, positive, subjects = map(np.asarray, (y_true, positive, subjects))
    per_subject: dict[str, float] = {}
    for subject in sorted(np.unique(subjects).tolist()):
        rows = subjects == subject
        one_class = len(np.unique(y_true[rows])) < 2
        per_subject[str(subject)] = float("nan") if one_class else float(roc_auc_score(y_true[rows], positive[rows]))
    values = np.array(list(per_subject.values()))
    finite = values[~np.isnan(values)]
    return {
        "roc_auc": float(finite.mean()) if len(finite) else float("nan"),
        "roc_auc_std": float(finite.std()) if len(finite) else float("nan"),
        "roc_auc_per_subject": per_subject,
        "roc_auc_undefined": [s for s, v in per_subject.items() if np.isnan(v)],
    }
