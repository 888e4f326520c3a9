"""What each target of ``evaluation.targets`` is scored on: its tasks, its class labels, the protocols it can run.

* A **rating** target (valence, arousal, dominance or any other numeric trial
  column) takes the tasks of ``evaluation.tasks``; its labels come from the
  ratings (``binary``: rating > threshold, ``five_class``: the rating). A
  rating target that is NaN for the whole cohort (the source has no ratings)
  is skipped with a note.
* The **condition** target (:data:`biosig.session.CONDITION`, each trial's
  categorical label) has one task of its own, whatever ``evaluation.tasks``
  says: ``binary`` with two conditions, ``multiclass`` with more. Its classes
  are the sorted unique condition names over the cohort (:func:`condition_classes`),
  its labels their indices 0..n-1.

:func:`protocol_skip` says why a protocol cannot run on a cohort (one subject
for ``loso``, too few trials for ``within_subject``), so the runners skip it
with a note instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.session import CONDITION

#: The tasks of a condition target: two conditions, or more.
CONDITION_TASKS: tuple[str, ...] = ("binary", "multiclass")


@dataclass(frozen=True)
class TargetTask:
    """One target x task a model is scored on.

    ``classes`` holds the condition names (class index i is ``classes[i]``)
    for the condition target, ``None`` for a rating target.
    """

    target: str
    task: str
    classes: tuple[str, ...] | None = None

    @property
    def n_classes(self) -> int | None:
        """Number of condition classes, ``None`` for a rating target."""
        return None if self.classes is None else len(self.classes)


def is_condition(target: str) -> bool:
    """Whether ``target`` is the categorical condition of each trial (not a rating)."""
    return target == CONDITION


def condition_classes(values: Sequence[object] | np.ndarray) -> tuple[str, ...]:
    """Sorted unique condition names of ``values`` ``(n,)``, missing values (None, NaN, "") left out."""
    names = pd.Series(np.asarray(values, dtype=object)).dropna().astype(str)
    return tuple(sorted(set(names[(names != "") & (names != "nan")])))


def condition_task(classes: Sequence[str]) -> str:
    """``binary`` for two conditions, ``multiclass`` for more."""
    return "binary" if len(classes) == 2 else "multiclass"


def condition_labels(values: Sequence[object] | np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Class index of each condition, ``(n,)`` int64 (``classes[i]`` -> i).

    Raises
    ------
    DataError
        A value is missing or not one of ``classes``.
    """
    index = {name: i for i, name in enumerate(classes)}
    names = np.asarray(values, dtype=object).astype(str)
    unknown = sorted(set(names.tolist()) - set(index))
    if unknown:
        raise DataError(f"{CONDITION}: trials without a known condition: {unknown[:5]} (conditions: {list(classes)})")
    return np.array([index[n] for n in names], dtype=np.int64)


def target_tasks(target: str, values: np.ndarray | None, tasks: Sequence[str]) -> tuple[list[TargetTask], list[str]]:
    """The target x task combinations of one target, and notes on what it skips.

    Parameters
    ----------
    target
        A name of ``evaluation.targets``.
    values
        ``(n_windows,)`` the target's value per window over the cohort, or
        ``None`` when the data have no such column.
    tasks
        The tasks a model runs on rating targets (``evaluation.tasks``, as far
        as the model supports them).
    """
    if values is None:
        return [], [f"target {target}: the trials have no {target!r} column; skipped"]
    if is_condition(target):
        classes = condition_classes(values)
        if len(classes) < 2:
            return [], [f"target {target}: {len(classes)} condition(s) {list(classes)} over the cohort, nothing to tell apart; skipped"]
        return [TargetTask(target, condition_task(classes), classes)], []
    ratings = np.asarray(values, dtype=float)
    if ratings.size == 0 or np.isnan(ratings).all():
        return [], [f"target {target}: no ratings in the source (all NaN); skipped"]
    return [TargetTask(target, task) for task in tasks], []


def protocol_skip(
    protocol: str, subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, condition: bool
) -> str | None:
    """Why ``protocol`` cannot run on these windows, or ``None`` when it can.

    Parameters
    ----------
    protocol
        ``loso`` needs at least 2 subjects; ``within_subject`` needs each
        subject to have ``n_folds`` trials, and for a condition target
        ``n_folds`` trials of every condition it has (so every test fold holds
        each condition). Other protocols are not checked here.
    subjects, trials, labels
        ``(n_windows,)`` subject id, trial number and label per window (for a
        condition target the condition names, which the note quotes).
    n_folds
        Folds per subject of ``within_subject``.
    condition
        Whether the labels are conditions (checked per class) or ratings.
    """
    subjects = np.asarray(subjects).astype(str)
    if protocol == "loso":
        n = len(np.unique(subjects))
        return None if n >= 2 else f"loso skipped: leave one subject out needs at least 2 subjects, the cohort has {n}"
    if protocol != "within_subject":
        return None
    table = pd.DataFrame({"subject": subjects, "trial": np.asarray(trials), "label": np.asarray(labels)})
    per_trial = table.drop_duplicates(["subject", "trial"])
    for subject, rows in per_trial.groupby("subject", sort=True):
        if len(rows) < n_folds:
            return (
                f"within_subject skipped: {n_folds} folds need at least {n_folds} trials per subject, "
                f"subject {subject} has {len(rows)}"
            )
        if condition:
            counts = rows["label"].value_counts()
            if counts.min() < n_folds:
                return (
                    f"within_subject skipped: {n_folds} folds need at least {n_folds} trials of each condition "
                    f"per subject, subject {subject} has {int(counts.min())} of {counts.idxmin()!r}"
                )
    return None
