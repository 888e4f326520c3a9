"""Labels from ratings: class labels, regression targets, rating bins, LOSO label correction.

HiSTN's ordinal label smoothing lives with the deep-model training
(:mod:`graphs.training.label_smoothing`).

* :func:`class_labels`: SAM ratings to class indices (``binary``: rating >
  threshold; ``five_class``: rating 1..5 -> class 0..4).
* :func:`corrected_labels`: HiSTN's subject-independent label correction
  (``prepare_Y``): every training trial's label becomes the most frequent
  label of that stimulus (trial number = clip) among the training subjects.
* :func:`regression_targets`: the ``regression`` task's target, the rating
  rescaled to [-1, 1] by the rating scale ``(low, high)``:
  ``(rating - centre) / half_range`` with ``centre = (low + high) / 2`` and
  ``half_range = (high - low) / 2`` (SAM 1..5: 1 -> -1, 3 -> 0, 5 -> 1), so a
  model's linear head starts near the targets whatever the scale;
  :func:`ratings_from_targets` maps predictions back to the rating scale.
* :func:`rating_bins`: ratings rounded (half up) to the scale's points, as
  classes 0..(high - low), where the regression task needs classes: balanced
  batches, stratified folds and label correction.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from biosig.errors import ConfigError, DataError

TaskName = Literal["binary", "five_class"]

#: Classes of each task: binary low/high, five_class the SAM ratings 1..5 as 0..4.
N_CLASSES: dict[str, int] = {"binary": 2, "five_class": 5}


def class_labels(ratings: np.ndarray, task: TaskName, threshold: float = 3.0, name: str = "rating") -> np.ndarray:
    """Class index per rating, ``(n,)`` int64.

    Parameters
    ----------
    ratings
        ``(n,)`` self-reports on the 1..5 SAM scale.
    task
        ``"binary"``: 1 when ``rating > threshold`` else 0; ``"five_class"``:
        ``rating - 1`` (the ratings must be the integers 1..5).
    threshold
        Binary cut-off on the rating scale.
    name
        What the ratings are (``"valence"``), for the error message.

    Raises
    ------
    DataError
        A rating is NaN, or (five_class) not an integer in 1..5.
    """
    r = np.asarray(ratings, dtype=float)
    if np.isnan(r).any():
        raise DataError(f"{name}: {int(np.isnan(r).sum())} ratings are NaN")
    if task == "binary":
        return (r > threshold).astype(np.int64)
    if task != "five_class":
        raise ConfigError(f"task {task!r} is not one of {sorted(N_CLASSES)}")
    bad = (r != np.rint(r)) | (r < 1) | (r > 5)
    if bad.any():
        raise DataError(f"{name}: five_class needs integer ratings 1..5, got {sorted(set(r[bad].tolist()))[:5]}")
    return r.astype(np.int64) - 1


def regression_targets(
    ratings: np.ndarray, rating_range: tuple[float, float] = (1.0, 5.0), name: str = "rating"
) -> np.ndarray:
    """Ratings rescaled to [-1, 1], ``(n,)`` float64: ``(rating - centre) / half_range``.

    Parameters
    ----------
    ratings
        ``(n,)`` self-reports on the rating scale.
    rating_range
        ``(low, high)`` ends of the scale (SAM in DREAMER: 1, 5; DEAP: 1, 9).
    name
        What the ratings are (``"valence"``), for the error message.

    Raises
    ------
    DataError
        A rating is NaN or outside ``rating_range``.
    """
    r = _check_ratings(ratings, rating_range, name)
    low, high = rating_range
    return (r - (low + high) / 2.0) / ((high - low) / 2.0)


def ratings_from_targets(values: np.ndarray, rating_range: tuple[float, float] = (1.0, 5.0)) -> np.ndarray:
    """Inverse of :func:`regression_targets`: ``(n,)`` values on [-1, 1] to the rating scale (not clipped)."""
    low, high = rating_range
    return np.asarray(values, dtype=float) * ((high - low) / 2.0) + (low + high) / 2.0


def rating_bins(ratings: np.ndarray, rating_range: tuple[float, float] = (1.0, 5.0), name: str = "rating") -> np.ndarray:
    """Ratings rounded half up to the scale's points, as classes ``0..round(high - low)``, ``(n,)`` int64.

    SAM 1..5 gives the five classes of ``five_class``; DEAP's continuous
    1..9 ratings give 9 bins (4.49 -> 3, 4.5 -> 4).

    Raises
    ------
    DataError
        A rating is NaN or outside ``rating_range``.
    """
    r = _check_ratings(ratings, rating_range, name)
    return np.floor(r - rating_range[0] + 0.5).astype(np.int64)


def corrected_labels(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_classes: int
) -> np.ndarray:
    """HiSTN's label correction: each row's label becomes its stimulus' most frequent label.

    Parameters
    ----------
    subjects, trials, labels
        ``(n_windows,)`` rows of the *training* subjects only: subject id, trial
        number (the stimulus: trial j is clip j for every subject) and class
        index. A trial carries one label, so each (subject, trial) counts once,
        however many windows it has.
    n_classes
        Number of classes (the histogram's bins).

    Returns
    -------
    np.ndarray
        ``(n_windows,)`` corrected class indices. A tie goes to the lowest
        class, as ``argmax`` of the authors' 5-bin histogram does.

    Raises
    ------
    DataError
        A (subject, trial) has windows with different labels.
    """
    subjects, trials = np.asarray(subjects), np.asarray(trials)
    labels = check_classes(labels, n_classes)
    _, subject_code = np.unique(subjects, return_inverse=True)
    _, first, inverse = np.unique(
        np.stack([subject_code.ravel(), trials.astype(np.int64)]), axis=1, return_index=True, return_inverse=True
    )
    inverse = inverse.ravel()
    if (labels != labels[first][inverse]).any():
        bad = int(np.flatnonzero(labels != labels[first][inverse])[0])
        raise DataError(f"subject {subjects[bad]} trial {trials[bad]}: windows of one trial carry different labels")
    trial_of_pair, label_of_pair = trials[first], labels[first]
    stimuli, stim_index = np.unique(trial_of_pair, return_inverse=True)
    counts = np.zeros((len(stimuli), n_classes), dtype=np.int64)
    np.add.at(counts, (stim_index, label_of_pair), 1)
    mode = counts.argmax(axis=1)
    return mode[np.searchsorted(stimuli, trials)]


def _check_ratings(ratings: np.ndarray, rating_range: tuple[float, float], name: str) -> np.ndarray:
    low, high = rating_range
    if not low < high:
        raise ConfigError(f"rating_range must be (low, high) with low < high, got {tuple(rating_range)}")
    r = np.asarray(ratings, dtype=float)
    if np.isnan(r).any():
        raise DataError(f"{name}: {int(np.isnan(r).sum())} ratings are NaN")
    outside = (r < low) | (r > high)
    if outside.any():
        raise DataError(
            f"{name}: ratings {sorted(set(r[outside].tolist()))[:5]} lie outside rating_range [{low}, {high}]"
        )
    return r


def check_classes(y: np.ndarray, n_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"class labels must be integers in 0..{n_classes - 1}, got values {np.unique(y)[:8].tolist()}")
    return y.astype(np.int64)
