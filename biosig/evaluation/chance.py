"""Chance levels: trial-level permutation tests and the stratified random guess.

* :func:`shuffle_trial_labels`: labels permuted at the trial level within each
  subject (all windows of a trial keep one label; each subject keeps its
  multiset of trial labels).
* :func:`permutation_chance`: reruns a whole evaluation (every fold) on such
  shuffled labels, giving the observed score a p-value and the chance
  distribution's mean and 95th percentile (``chance_kind = "permutation"``);
  :func:`trial_shuffles` and :func:`chance_from_null` are its two halves, for
  callers that evaluate the shuffles themselves (e.g. in parallel).
* :func:`stratified_chance`: without permutations a score is compared with a
  stratified random guess fitted on the training labels (scikit-learn's
  ``DummyClassifier(strategy="stratified")``, ``chance_kind = "stratified"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.dummy import DummyClassifier

from biosig.evaluation.protocols import ordered_unique

#: How a score's chance reference was obtained.
ChanceKind = Literal["permutation", "stratified"]


@dataclass(frozen=True)
class PermutationChance:
    """A score and its trial-level permutation null distribution.

    ``null`` ``(n_permutations,)`` holds the score of each shuffled run (NaN
    where the evaluation returned NaN). ``p_value`` is
    ``(1 + #{null at least as good as observed}) / (1 + n_valid)`` over the
    ``n_valid`` finite null scores, so it is never 0 and its smallest value is
    ``1 / (1 + n_valid)``. ``null_mean`` and ``null_p95`` (the 95th percentile;
    the 5th for an error where lower is better) summarise the finite null.
    """

    observed: float
    null: np.ndarray
    p_value: float
    null_mean: float
    null_p95: float
    n_valid: int
    chance_kind: ChanceKind = "permutation"

    def to_dict(self) -> dict:
        """Plain dict for ``metrics.json`` (the null as a list)."""
        return {
            "observed": self.observed,
            "null": [float(v) for v in self.null],
            "p_value": self.p_value,
            "null_mean": self.null_mean,
            "null_p95": self.null_p95,
            "n_valid": self.n_valid,
            "chance_kind": self.chance_kind,
        }


def shuffle_trial_labels(
    labels: np.ndarray, subjects: np.ndarray, trials: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Labels permuted among the trials of each subject, ``(n_windows,)`` like ``labels``.

    Parameters
    ----------
    labels, subjects, trials
        ``(n_windows,)``: label (class or rating), subject id and trial id per
        window. A trial is the pair (subject, trial), so trial numbers may
        repeat across subjects. Every window of a trial must carry one label.
    rng
        Source of the permutations (advanced by one permutation per subject,
        subjects in order of first appearance).

    Raises
    ------
    ValueError
        The arrays differ in length, or a trial carries more than one label.
    """
    labels, subjects, trials = np.asarray(labels), np.asarray(subjects), np.asarray(trials)
    if not len(labels) == len(subjects) == len(trials):
        raise ValueError(f"labels, subjects and trials differ in length: {len(labels)}, {len(subjects)}, {len(trials)}")
    shuffled = labels.copy()
    for subject in ordered_unique(subjects):
        rows = np.flatnonzero(subjects == subject)
        trial_ids = ordered_unique(trials[rows])
        members = [rows[trials[rows] == t] for t in trial_ids]
        trial_labels = []
        for t, m in zip(trial_ids, members):
            values = np.unique(labels[m])
            if len(values) != 1:
                raise ValueError(f"subject {subject} trial {t}: windows carry {len(values)} labels, expected one")
            trial_labels.append(labels[m[0]])
        for m, value in zip(members, rng.permutation(np.array(trial_labels))):
            shuffled[m] = value
    return shuffled


def permutation_chance(
    evaluate: Callable[[np.ndarray], float],
    labels: np.ndarray,
    subjects: np.ndarray,
    trials: np.ndarray,
    n_permutations: int,
    seed: int,
    greater_is_better: bool = True,
    observed: float | None = None,
) -> PermutationChance:
    """Score of the true labels against the scores of trial-level shuffles.

    Parameters
    ----------
    evaluate
        Runs the whole evaluation (every fold, the same folds each time) with
        the given ``(n_windows,)`` window labels and returns one score (e.g. the
        mean over subjects of the per-subject F1).
    labels, subjects, trials
        ``(n_windows,)`` as in :func:`shuffle_trial_labels`.
    n_permutations
        Shuffled runs (>= 1); the p-value cannot fall below ``1 / (1 + n)``.
    seed
        Seed of the shuffles (``numpy.random.default_rng``).
    greater_is_better
        False for errors (RMSE): "at least as good" then means "<=".
    observed
        The score of the true labels when the caller has it already (the same
        ``evaluate(labels)``, not recomputed); default: computed here.
    """
    shuffles = trial_shuffles(labels, subjects, trials, n_permutations, seed)
    observed = float(evaluate(np.asarray(labels)) if observed is None else observed)
    null = np.array([float(evaluate(shuffled)) for shuffled in shuffles])
    return chance_from_null(observed, null, greater_is_better)


def trial_shuffles(
    labels: np.ndarray, subjects: np.ndarray, trials: np.ndarray, n_permutations: int, seed: int
) -> list[np.ndarray]:
    """The ``n_permutations`` label shuffles :func:`permutation_chance` evaluates, in its order.

    Each is :func:`shuffle_trial_labels` ``(n_windows,)``, drawn one after the
    other from ``numpy.random.default_rng(seed)``: callers that evaluate them
    in parallel get the null distribution of the serial run.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    rng = np.random.default_rng(seed)
    return [shuffle_trial_labels(labels, subjects, trials, rng) for _ in range(n_permutations)]


def chance_from_null(observed: float, null: np.ndarray, greater_is_better: bool = True) -> PermutationChance:
    """p-value and null summary of an ``observed`` score against the ``(n_permutations,)`` scores of shuffled runs."""
    observed = float(observed)
    null = np.asarray(null, dtype=float)
    finite = null[~np.isnan(null)]
    n_valid = len(finite)
    if n_valid == 0 or np.isnan(observed):
        return PermutationChance(observed, null, float("nan"), float("nan"), float("nan"), n_valid)
    as_good = finite >= observed if greater_is_better else finite <= observed
    p_value = (1 + int(as_good.sum())) / (1 + n_valid)
    p95 = float(np.percentile(finite, 95 if greater_is_better else 5))
    return PermutationChance(observed, null, float(p_value), float(finite.mean()), p95, n_valid)


def stratified_guess(y_train: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """``(n_test,)`` random labels drawn with the class frequencies of ``y_train``.

    scikit-learn's ``DummyClassifier(strategy="stratified", random_state=seed)``,
    the chance reference of the feature baseline and the deep models' folds.
    """
    dummy = DummyClassifier(strategy="stratified", random_state=seed)
    return dummy.fit(np.zeros((len(y_train), 1)), y_train).predict(np.zeros((n_test, 1)))


def stratified_chance(
    y_train: np.ndarray,
    y_test: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    seed: int,
) -> float:
    """``metric(y_test, guess)`` of a stratified random guess fitted on ``y_train`` (the ``"stratified"`` chance).

    The guess draws each test label independently with the training class
    frequencies: its expected accuracy is ``sum_c p_train(c) * p_test(c)``,
    not the majority share that a most-frequent guess would score.
    """
    y_test = np.asarray(y_test)
    return float(metric(y_test, stratified_guess(np.asarray(y_train), len(y_test), seed)))

