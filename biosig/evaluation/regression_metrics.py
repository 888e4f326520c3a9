"""Scores of continuous rating predictions: concordance correlation, Pearson r, RMSE, MAE.

* **CCC**: Lin's concordance correlation coefficient
  (:func:`concordance_correlation`), the
  affective-computing standard for continuous valence/arousal: it is 1 only
  for identical series and, unlike Pearson r, falls with any bias or scale
  difference. Predicting a constant (the training mean) scores 0.
* **Pearson r**, with population moments as CCC; undefined (NaN) when either
  series is constant.
* **RMSE** and **MAE** on the rating scale.

As for the classification scores (:func:`~graphs.training.ordinal_metrics.subject_mean_scores`)
each score is computed per subject and averaged over subjects.
"""

from __future__ import annotations

import numpy as np

from biosig.errors import DataError

#: The scores of :func:`regression_scores`, in report order.
REGRESSION_SCORES: tuple[str, ...] = ("ccc", "pearson_r", "rmse", "mae")


def concordance_correlation(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two ``(n,)`` series (1 = identical)."""
    x, y = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise DataError(f"y_true {x.shape} and y_pred {y.shape} must be equal 1-D arrays of length >= 2")
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    denom = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    if denom == 0:
        raise DataError("CCC is undefined for two identical constant series")
    return float(2.0 * cov / denom)


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation of two ``(n,)`` series; NaN when either is constant."""
    x, y = _check_pair(y_true, y_pred)
    # Tested on the values, not on the variance: the mean of a constant series can differ from it by rounding.
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.sum(dx * dy) / np.sqrt(np.sum(dx**2) * np.sum(dy**2)))


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Every score of one set of predictions.

    Parameters
    ----------
    y_true, y_pred
        ``(n,)`` true and predicted ratings (same scale), ``n >= 2``.

    Returns
    -------
    dict
        ``ccc``, ``pearson_r`` (NaN for a constant series), ``rmse``, ``mae``
        (rating units) and ``n``. ``ccc`` is NaN only when both series are
        the same constant, where it is 0/0.
    """
    x, y = _check_pair(y_true, y_pred)
    same_constant = np.ptp(x) == 0 and np.ptp(y) == 0 and x[0] == y[0]
    err = y - x
    return {
        "ccc": float("nan") if same_constant else concordance_correlation(x, y),
        "pearson_r": pearson_r(x, y),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "n": len(x),
    }


def subject_mean_regression_scores(y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray) -> dict:
    """:func:`regression_scores` per subject, averaged over subjects (the field's convention).

    Parameters
    ----------
    y_true, y_pred
        ``(n,)`` true and predicted ratings.
    subjects
        ``(n,)`` subject of each row; every subject needs at least 2 rows.

    Returns
    -------
    dict
        Each score's mean over the subjects where it is defined and
        ``<score>_std`` (NaN when no subject has it), ``pooled`` (the scores of
        all rows together) and ``per_subject`` (subject -> scores).
    """
    x, y = _check_pair(y_true, y_pred)
    subjects = np.asarray(subjects)
    if subjects.shape != x.shape:
        raise DataError(f"subjects has shape {subjects.shape}; expected {x.shape} to match the ratings")
    per_subject = {}
    for subject in sorted(np.unique(subjects).tolist()):
        rows = subjects == subject
        if rows.sum() < 2:
            raise DataError(f"subject {subject}: {int(rows.sum())} tested window; regression scores need at least 2")
        per_subject[str(subject)] = regression_scores(x[rows], y[rows])
    out: dict = {}
    for name in REGRESSION_SCORES:
        values = np.array([s[name] for s in per_subject.values()])
        values = values[~np.isnan(values)]
        out[name] = float(values.mean()) if len(values) else float("nan")
        out[f"{name}_std"] = float(values.std()) if len(values) else float("nan")
    out["pooled"] = regression_scores(x, y)
    out["per_subject"] = per_subject
    return out


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise DataError(f"y_true {x.shape} and y_pred {y.shape} must be equal 1-D arrays of length >= 2")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("y_true and y_pred must be finite (a rating or prediction is NaN or infinite)")
    return x, y
