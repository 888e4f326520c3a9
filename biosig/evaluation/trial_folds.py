"""One set of trial-level folds for every model of a run.

The feature baseline and the deep models cut their trials into different
windows (e.g. 4-s feature windows, 1-s HiSTN windows). A window-level split
would weight each trial by its number of windows, so the models would hold
out different trials. :func:`trial_fold_splits` assigns the folds on a table
of trials instead (one row per (subject, trial), in a canonical order) with
:func:`~biosig.evaluation.protocols.subject_dependent_kfold`, then maps the
assignment to any model's windows: for the same subjects, trials, labels,
``n_folds`` and seed, every model holds out the same trials in each fold, and
comparisons between models are paired.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.evaluation.protocols import Split, subject_dependent_kfold


def trial_table(subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """One row per (subject, trial), sorted by subject then trial: columns ``subject``, ``trial``, ``label``.

    Raises
    ------
    DataError
        A trial's windows carry more than one label.
    """
    windows = pd.DataFrame({"subject": np.asarray(subjects).astype(str), "trial": np.asarray(trials), "label": labels})
    per_trial = windows.groupby(["subject", "trial"], sort=True)["label"]
    if (per_trial.nunique() > 1).any():
        raise DataError("a trial's windows carry more than one label; trial-level folds need one label per trial")
    return per_trial.first().reset_index()


def trial_fold_assignment(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> dict[tuple[str, object], int]:
    """``{(subject, trial): k}``: the fold ``k`` (0-based, per subject) in which each trial is held out.

    Stratified by the trial label where possible, shuffled with ``seed``
    (:func:`~biosig.evaluation.protocols.subject_dependent_kfold` on
    :func:`trial_table`, every trial as ``n_folds`` rows, so every trial weighs one whatever its window count).
    """
    # Every trial stands as n_folds equal rows: equal weights, and enough rows per class for the
    # stratified splitter even where a rating level was used in a single trial.
    table = trial_table(subjects, trials, labels)
    rows = table.loc[table.index.repeat(n_folds)].reset_index(drop=True)
    assignment: dict[tuple[str, object], int] = {}
    splits = subject_dependent_kfold(
        rows["subject"].to_numpy(), rows["trial"].to_numpy(), rows["label"].to_numpy(), n_folds, seed
    )
    for name, _train, test in splits:
        k = int(name.rsplit("/", 1)[1])
        for row in test:
            assignment[(rows["subject"].iat[row], rows["trial"].iat[row])] = k
    return assignment


def trial_fold_splits(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> list[Split]:
    """The ``within_subject`` folds over windows: ``(fold, train_index, test_index)`` per subject and fold.

    Parameters
    ----------
    subjects, trials, labels
        ``(n_windows,)``: subject id, trial number and class label per window
        (one label per trial).
    n_folds, seed
        As in :func:`trial_fold_assignment`.

    Returns
    -------
    ``"<subject>/<k>"`` folds in subject order of first appearance; the
    training rows are the subject's windows of the other folds' trials.
    """
    subjects = np.asarray(subjects)
    names = subjects.astype(str)
    trials = np.asarray(trials)
    assignment = trial_fold_assignment(subjects, trials, labels, n_folds, seed)
    fold_of = np.array([assignment[(s, t)] for s, t in zip(names, trials)])
    _, first = np.unique(names, return_index=True)
    splits: list[Split] = []
    for subject in names[np.sort(first)]:
        mine = names == subject
        for k in range(n_folds):
            test = mine & (fold_of == k)
            splits.append((f"{subject}/{k}", np.flatnonzero(mine & ~test), np.flatnonzero(test)))
    return splits
