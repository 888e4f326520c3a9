"""Cross-validation splitters of the feature-level protocols, as index generators.

Each yields ``(fold, train_index, test_index)`` over the rows (windows) of a
cohort, and guarantees what its name says:

* :func:`subject_dependent_kfold`: train and test come from the same subject;
  a trial is never split: all its windows are on one side (leakage-free).
* :func:`leave_one_subject_out`: the test subject never appears in training.

The deep-model protocols, which also need validation and fine-tuning rows,
build on these in :mod:`graphs.training.splits`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

from biosig.errors import DataError

Split = tuple[str, np.ndarray, np.ndarray]


def subject_dependent_kfold(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> Iterator[Split]:
    """Per subject, k-fold over whole trials, stratified by the trial label where possible.

    Parameters
    ----------
    subjects, trials, labels
        ``(n_windows,)`` arrays: subject id, trial number and class label per window.
    n_folds
        Folds per subject; each subject needs at least this many trials.
    seed
        Seed of the fold shuffling.

    Yields
    ------
    fold, train_index, test_index
        ``fold`` is ``"<subject>/<k>"``; indices refer to the input rows.
    """
    subjects = np.asarray(subjects)
    for subject in ordered_unique(subjects):
        rows = np.flatnonzero(subjects == subject)
        n_trials = len(np.unique(trials[rows]))
        if n_trials < n_folds:
            raise DataError(f"subject {subject} has {n_trials} trials, fewer than evaluation.n_folds = {n_folds}")
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            # Rare classes (a rating used in one trial) cannot be stratified; the split stays valid.
            warnings.simplefilter("ignore", UserWarning)
            folds = list(splitter.split(rows, labels[rows], groups=trials[rows]))
        for k, (train, test) in enumerate(folds):
            yield f"{subject}/{k}", rows[train], rows[test]


def leave_one_subject_out(subjects: np.ndarray) -> Iterator[Split]:
    """One fold per subject: test on that subject, train on all others."""
    subjects = np.asarray(subjects)
    if len(np.unique(subjects)) < 2:
        raise DataError("leave-one-subject-out needs at least 2 subjects")
    for train, test in LeaveOneGroupOut().split(subjects, groups=subjects):
        yield str(subjects[test[0]]), train, test


def ordered_unique(values: np.ndarray) -> list:
    _, first = np.unique(values, return_index=True)
    return [values[i] for i in sorted(first)]
