"""Scores of ordinal (rating) classifiers and regressors: HiSTN's Seq2HR and Tri-P, top-k, CCC.

Definitions follow the HiSTN code (``Metrics.py``; field notes section 1):

* **top-k accuracy**: the true class is among the k most probable classes.
  The authors keep only the columns of the classes present in the test set
  (``pred[:, unique(y_test)]``); ``present_only=True`` reproduces that.
* **Seq2HR** (sequential top-2 hit rate): the share of samples whose two most
  probable classes are adjacent (``|r1 - r2| == 1``) *and* contain the true class.
* **Tri-P**: the share of predictions within one class of the truth
  (``|y_hat - y| <= 1``), the tridiagonal band of the confusion matrix.
* **CCC**: Lin's concordance correlation coefficient of a regression,
  ``2 cov(x, y) / (var x + var y + (mean x - mean y)^2)`` with population
  (ddof 0) moments.

Weighted F1, accuracy and the confusion matrix come from scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

from biosig.errors import DataError


def top_two(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most and second most probable class per row of ``(n, n_classes)``; ties go to the lower class."""
    p = _check_proba(probabilities)
    order = np.argsort(-p, axis=1, kind="stable")
    return order[:, 0], order[:, 1]


def top_k_accuracy(
    y_true: np.ndarray, probabilities: np.ndarray, k: int = 2, present_only: bool = False
) -> float:
    """Share of samples whose true class is among the ``k`` most probable.

    Parameters
    ----------
    y_true
        ``(n,)`` class indices.
    probabilities
        ``(n, n_classes)`` class probabilities (or any scores).
    k
        How many top classes count as a hit.
    present_only
        Rank only the classes present in ``y_true`` (the HiSTN code's behaviour).
    """
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    columns = np.unique(y) if present_only else np.arange(p.shape[1])
    order = columns[np.argsort(-p[:, columns], axis=1, kind="stable")[:, :k]]
    return float((order == y[:, None]).any(axis=1).mean())


def seq2hr(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Sequential top-2 hit rate: top two classes adjacent and one of them the true class."""
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    r1, r2 = top_two(p)
    return float(((np.abs(r1 - r2) == 1) & ((y == r1) | (y == r2))).mean())


def tri_p(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of predicted classes within one class of the true class."""
    y, pred = np.asarray(y_true), np.asarray(y_pred)
    if y.shape != pred.shape or y.ndim != 1 or not len(y):
        raise DataError(f"y_true {y.shape} and y_pred {pred.shape} must be equal non-empty 1-D arrays")
    return float((np.abs(pred.astype(np.int64) - y.astype(np.int64)) <= 1).mean())


def ordinal_scores(y_true: np.ndarray, probabilities: np.ndarray, labels: Sequence[int]) -> dict:
    """Every score of one set of predictions.

    Parameters
    ----------
    y_true
        ``(n,)`` class indices.
    probabilities
        ``(n, n_classes)``; the prediction is the arg-max.
    labels
        All class indices, for the confusion matrix (rows true, columns predicted).

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``f1_weighted``, ``top2_accuracy``, ``seq2hr``,
        ``tri_p`` (the last three only with more than two classes: with two
        they are 1 by construction), ``n`` and ``confusion_matrix``.
    """
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    pred = p.argmax(axis=1)
    out: dict = {
        "accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": _balanced_accuracy(y, pred),
        "f1_weighted": float(f1_score(y, pred, average="weighted", zero_division=0)),
    }
    if p.shape[1] > 2:
        out["top2_accuracy"] = top_k_accuracy(y, p, 2)
        out["seq2hr"] = seq2hr(y, p)
        out["tri_p"] = tri_p(y, pred)
    out["n"] = len(y)
    out["confusion_matrix"] = confusion_matrix(y, pred, labels=list(labels)).tolist()
    return out


def subject_mean_scores(
    y_true: np.ndarray, probabilities: np.ndarray, subjects: np.ndarray, labels: Sequence[int]
) -> dict:
    """:func:`ordinal_scores` per subject, averaged over subjects (the field's convention).

    Returns each score's mean over subjects and ``<score>_std``, ``pooled``
    (the scores of all rows together, with the confusion matrix) and
    ``per_subject`` (subject -> scores without the matrix).
    """
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    subjects = np.asarray(subjects)
    per_subject = {}
    for subject in sorted(np.unique(subjects).tolist()):
        rows = subjects == subject
        scores = ordinal_scores(y[rows], p[rows], labels)
        del scores["confusion_matrix"]
        per_subject[str(subject)] = scores
    out: dict = {}
    for name in next(iter(per_subject.values())):
        if name == "n":
            continue
        values = np.array([s[name] for s in per_subject.values()])
        out[name] = float(values.mean())
        out[f"{name}_std"] = float(values.std())
    out["pooled"] = ordinal_scores(y, p, labels)
    out["per_subject"] = per_subject
    return out


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    with warnings.catch_warnings():
        # A class predicted but absent from the truth (one subject's test rows) is not an error here.
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y, pred))


def _check_proba(probabilities: np.ndarray) -> np.ndarray:
    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2 or not len(p):
        raise DataError(f"probabilities must be (n > 0, n_classes >= 2), got shape {p.shape}")
    return p


def _check_labels(y_true: np.ndarray, p: np.ndarray) -> np.ndarray:
    y = np.asarray(y_true)
    if y.shape != (len(p),):
        raise DataError(f"y_true has shape {y.shape}; expected ({len(p)},) to match the probabilities")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= p.shape[1]:
        raise DataError(f"y_true must hold class indices 0..{p.shape[1] - 1}")
    return y.astype(np.int64)
