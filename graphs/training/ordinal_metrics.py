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

The ``authors_`` functions reproduce how the HiSTN code computes its
published scores, where that differs from the definitions above (a class
absent from the test set); report them beside the correct ones, labelled as
the authors' (:func:`authors_scores`, :func:`authors_average`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    top_k_accuracy_score,
)

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


def authors_top_k(y_true: np.ndarray, probabilities: np.ndarray, k: int = 2) -> float:
    """Top-k accuracy as the HiSTN code computes it: over the classes present in ``y_true`` only.

    ``Dreamer_10cv.py`` calls ``top_k_accuracy_score(Ytest, pred[:, unique(Ytest)], k)``:
    the columns of classes absent from the test set are dropped before
    ranking, so a sample whose most probable class is absent from the test
    set can still be a top-1 hit. The correct definition
    (:func:`top_k_accuracy`, ``present_only=False``) ranks all classes; the
    two agree when every class is in the test set. With three or more
    present classes this calls scikit-learn exactly as the authors do (ties
    go to the higher class); with one or two present classes that call raises
    in scikit-learn, and the present classes are ranked as
    :func:`top_k_accuracy` with ``present_only=True`` ranks them.
    """
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    present = np.unique(y)
    if len(present) < 3:
        return top_k_accuracy(y, p, k, present_only=True)
    return float(top_k_accuracy_score(y, p[:, present], k=k))


def authors_tri_p(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Tri-P as the HiSTN code computes it: the tridiagonal band of a confusion matrix built without ``labels=``.

    ``Dreamer_10cv.py`` builds ``confusion_matrix(Ytest, argmax(pred))``, whose
    rows and columns are the classes present in the truth or the predictions,
    and ``Metrics.count_off_neibor`` sums the entries off the band
    ``|row - column| <= 1`` of that matrix (zeroing the band in place, which
    also changes the stored matrix); Tri-P is ``1 - off / n`` (the authors
    report it in %). When a class between two others appears neither in the
    truth nor in the predictions, the indices shift: e.g. with class 2 absent,
    truth 1 predicted 3 (two classes apart) falls in the band and counts as
    near. The correct definition (:func:`tri_p`) compares class values,
    ``|y_hat - y| <= 1``; the two agree when no class inside the range of
    those present is missing. A 1 x 1 matrix (one class everywhere), on which the
    authors' function fails, gives 1.
    """
    y, pred = np.asarray(y_true), np.asarray(y_pred)
    if y.shape != pred.shape or y.ndim != 1 or not len(y):
        raise DataError(f"y_true {y.shape} and y_pred {pred.shape} must be equal non-empty 1-D arrays")
    with warnings.catch_warnings():
        # scikit-learn warns that a matrix without labels= may miss classes: that is the behaviour reproduced.
        warnings.simplefilter("ignore", UserWarning)
        matrix = confusion_matrix(y, pred)
    rows, cols = np.indices(matrix.shape)
    return float(1.0 - matrix[np.abs(rows - cols) > 1].sum() / len(y))


def authors_scores(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The HiSTN code's scores of one fold's test set, as fractions (the authors report %).

    ``top1_accuracy`` and ``top2_accuracy`` (:func:`authors_top_k`),
    ``f1_weighted`` (scikit-learn's weighted F1 of the arg-max over all
    classes, as the authors and :func:`ordinal_scores` compute it), ``seq2hr``
    (:func:`seq2hr`, ``Metrics.adj_score``'s third rate) and ``tri_p``
    (:func:`authors_tri_p`). Averaging: :func:`authors_average`.
    """
    p = _check_proba(probabilities)
    y = _check_labels(y_true, p)
    pred = p.argmax(axis=1)
    return {
        "top1_accuracy": authors_top_k(y, p, 1),
        "top2_accuracy": authors_top_k(y, p, 2),
        "f1_weighted": float(f1_score(y, pred, average="weighted", zero_division=0)),
        "seq2hr": seq2hr(y, p),
        "tri_p": authors_tri_p(y, pred),
    }


def authors_average(fold_scores: Sequence[Mapping[str, float]], subjects: Sequence[object]) -> dict[str, float]:
    """Scores averaged over each subject's folds, then over subjects (the HiSTN code's order).

    ``Dreamer_10cv.py`` writes each subject's mean over its 10 folds and the
    published figure is the mean of those means over the 23 subjects; with
    equal fold counts this equals the mean over all folds, otherwise each
    subject weighs the same whatever its number of folds. Pooling the test
    rows of all folds (:func:`subject_mean_scores`' ``pooled``) is a
    different quantity.

    Parameters
    ----------
    fold_scores
        One mapping of score name -> value per fold (e.g. :func:`authors_scores`); the same names in each.
    subjects
        The subject of each fold.
    """
    if len(fold_scores) != len(subjects) or not len(fold_scores):
        raise DataError(f"{len(fold_scores)} fold scores and {len(subjects)} subjects; need equal, non-zero counts")
    names = list(fold_scores[0])
    by_subject: dict[object, list[Mapping[str, float]]] = {}
    for scores, subject in zip(fold_scores, subjects, strict=True):
        by_subject.setdefault(subject, []).append(scores)
    means = [{n: float(np.mean([s[n] for s in folds])) for n in names} for folds in by_subject.values()]
    return {n: float(np.mean([m[n] for m in means])) for n in names}


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
