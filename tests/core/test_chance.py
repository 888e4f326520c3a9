"""Trial-level label shuffles, permutation chance and the stratified chance level."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

from biosig.evaluation.chance import (
    chance_from_null,
    permutation_chance,
    shuffle_trial_labels,
    stratified_chance,
    stratified_guess,
    trial_shuffles,
)


def cohort(n_subjects: int = 6, n_trials: int = 12, n_windows: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window rows: subject, trial (numbered per subject, so numbers repeat) and a balanced binary trial label."""
    subjects = np.repeat(np.arange(n_subjects), n_trials * n_windows).astype(str)
    trials = np.tile(np.repeat(np.arange(n_trials), n_windows), n_subjects)
    labels = np.tile(np.repeat(np.arange(n_trials) % 2, n_windows), n_subjects)
    return subjects, trials, labels


def trial_label_counts(labels: np.ndarray, subjects: np.ndarray, trials: np.ndarray, subject: str) -> Counter:
    rows = subjects == subject
    return Counter(labels[rows & (trials == t)][0] for t in np.unique(trials[rows]))


def test_shuffle_keeps_trials_whole_and_each_subjects_labels() -> None:
    subjects, trials, _ = cohort(n_subjects=3, n_trials=5, n_windows=3)
    labels = np.array([1.0, 2.0, 3.0, 4.0, 5.0])[trials] + 10 * subjects.astype(int)
    shuffled = shuffle_trial_labels(labels, subjects, trials, np.random.default_rng(0))
    assert shuffled.shape == labels.shape and shuffled.dtype == labels.dtype
    for subject in np.unique(subjects):
        assert trial_label_counts(shuffled, subjects, trials, subject) == trial_label_counts(
            labels, subjects, trials, subject
        )
        for t in range(5):
            assert len(np.unique(shuffled[(subjects == subject) & (trials == t)])) == 1
    assert not np.array_equal(shuffled, labels)
    assert np.array_equal(shuffled, shuffle_trial_labels(labels, subjects, trials, np.random.default_rng(0)))
    assert not np.array_equal(shuffled, shuffle_trial_labels(labels, subjects, trials, np.random.default_rng(1)))


def test_shuffle_refuses_mixed_trials_and_ragged_input() -> None:
    subjects, trials, labels = cohort(n_subjects=1, n_trials=2, n_windows=2)
    labels = labels.copy()
    labels[0] = 1 - labels[1]
    with pytest.raises(ValueError, match="trial 0"):
        shuffle_trial_labels(labels, subjects, trials, np.random.default_rng(0))
    with pytest.raises(ValueError, match="length"):
        shuffle_trial_labels(labels[:-1], subjects, trials, np.random.default_rng(0))


def test_p_value_of_a_fixed_seed_matches_an_independent_replay() -> None:
    # One subject, three one-window trials labelled 1, 0, 0; the score is the first trial's label.
    subjects, trials, labels = np.zeros(3, int), np.arange(3), np.array([1, 0, 0])
    result = permutation_chance(lambda y: float(y[0]), labels, subjects, trials, n_permutations=200, seed=7)
    rng = np.random.default_rng(7)
    null = np.array([float(rng.permutation(labels)[0]) for _ in range(200)])
    assert result.observed == 1.0
    assert np.array_equal(result.null, null)
    assert result.p_value == (1 + (null >= 1.0).sum()) / 201
    assert result.p_value == pytest.approx(1 / 3, abs=0.08)
    assert result.null_mean == pytest.approx(null.mean())
    assert result.null_p95 == 1.0 and result.n_valid == 200 and result.chance_kind == "permutation"


def test_p_value_counts_ties_and_lower_is_better() -> None:
    subjects, trials, labels = np.zeros(4, int), np.arange(4), np.array([0.0, 1.0, 2.0, 3.0])
    best = permutation_chance(lambda y: float(y[0]), labels, subjects, trials, 50, seed=0, greater_is_better=False)
    assert best.p_value == (1 + (best.null <= 0.0).sum()) / 51
    assert best.null_p95 == pytest.approx(np.percentile(best.null, 5))
    constant = permutation_chance(lambda y: 0.5, labels, subjects, trials, 9, seed=0)
    assert constant.p_value == 1.0


def test_nan_null_scores_are_left_out() -> None:
    subjects, trials, labels = np.zeros(3, int), np.arange(3), np.array([2, 0, 1])
    result = permutation_chance(lambda y: float("nan") if y[0] == 0 else float(y[0]), labels, subjects, trials, 30, 3)
    finite = result.null[~np.isnan(result.null)]
    assert result.n_valid == len(finite) < 30
    assert result.p_value == (1 + (finite >= 2).sum()) / (1 + len(finite))
    assert set(result.to_dict()) == {"observed", "null", "p_value", "null_mean", "null_p95", "n_valid", "chance_kind"}
    nothing = permutation_chance(lambda y: float("nan"), labels, subjects, trials, 3, 0)
    assert nothing.n_valid == 0 and math.isnan(nothing.p_value)
    with pytest.raises(ValueError, match="n_permutations"):
        permutation_chance(lambda y: 0.0, labels, subjects, trials, 0, 0)


def fold_loop(x: np.ndarray, subjects: np.ndarray, trials: np.ndarray):
    """``evaluate(labels)``: logistic regression over whole-trial GroupKFold folds, mean over subjects of accuracy."""
    groups = np.char.add(subjects, trials.astype(str).astype("<U8"))
    folds = list(GroupKFold(n_splits=4).split(x, groups=groups))

    def evaluate(labels: np.ndarray) -> float:
        pred = np.empty_like(labels)
        for train, test in folds:
            pred[test] = LogisticRegression().fit(x[train], labels[train]).predict(x[test])
        return float(np.mean([accuracy_score(labels[subjects == s], pred[subjects == s]) for s in np.unique(subjects)]))

    return evaluate


def test_a_pipeline_on_labels_shuffled_in_advance_scores_inside_its_null() -> None:
    subjects, trials, labels = cohort()
    rng = np.random.default_rng(0)
    x = labels[:, None] * 1.5 + rng.normal(size=(len(labels), 4))
    evaluate = fold_loop(x, subjects, trials)
    informative = permutation_chance(evaluate, labels, subjects, trials, n_permutations=19, seed=1)
    assert informative.p_value == pytest.approx(1 / 20)
    assert informative.observed > 0.8 and informative.null_mean == pytest.approx(0.5, abs=0.1)
    broken = shuffle_trial_labels(labels, subjects, trials, np.random.default_rng(99))
    null_run = permutation_chance(evaluate, broken, subjects, trials, n_permutations=19, seed=1)
    assert null_run.p_value > 0.05
    assert null_run.observed <= null_run.null_p95


def test_stratified_chance_scores_a_frequency_matched_guess_not_the_majority() -> None:
    # Train 70/30: a stratified guess scores sum p_train * p_test = 0.58 accuracy on 70/30 test
    # labels, whereas the most-frequent guess would score 0.70.
    y_train = np.array([0] * 700 + [1] * 300)
    y_test = np.array([0] * 7000 + [1] * 3000)
    assert stratified_chance(y_train, y_test, accuracy_score, seed=0) == pytest.approx(0.58, abs=0.02)
    # Weighted F1: sum p_c**2 = 0.58 as well for the stratified guess (0.576 for the majority: too close to pin).
    weighted = stratified_chance(y_train, y_test, lambda t, p: f1_score(t, p, average="weighted"), seed=0)
    assert weighted == pytest.approx(0.58, abs=0.02)
    guess = stratified_guess(y_train, 10_000, seed=0)
    assert guess.mean() == pytest.approx(0.3, abs=0.02)
    assert np.array_equal(guess, stratified_guess(y_train, 10_000, seed=0))


def test_a_given_observed_score_is_not_recomputed():
    labels = np.repeat([0, 1, 0, 1], 3)
    subjects = np.repeat(["S1", "S1", "S2", "S2"], 3)
    trials = np.repeat([1, 2, 1, 2], 3)
    calls = []

    def evaluate(y: np.ndarray) -> float:
        calls.append(y.copy())
        return float(y[0])

    given = permutation_chance(evaluate, labels, subjects, trials, 4, seed=0, observed=0.25)
    computed = permutation_chance(evaluate, labels, subjects, trials, 4, seed=0)
    assert given.observed == 0.25 and computed.observed == 0.0
    assert len(calls) == 4 + 5  # the given run evaluated only its 4 shuffles
    np.testing.assert_array_equal(given.null, computed.null)


def test_trial_shuffles_are_the_labels_permutation_chance_evaluates_in_order() -> None:
    subjects, trials, labels = cohort()
    calls = []

    def evaluate(y: np.ndarray) -> float:
        calls.append(y.copy())
        return float(y[:8].mean())

    result = permutation_chance(evaluate, labels, subjects, trials, 6, seed=3)
    shuffles = trial_shuffles(labels, subjects, trials, 6, seed=3)
    assert len(shuffles) == 6
    for shuffled, evaluated in zip(shuffles, calls[1:]):
        np.testing.assert_array_equal(shuffled, evaluated)
    again = chance_from_null(result.observed, np.array([evaluate(s) for s in shuffles]))
    assert again.to_dict() == result.to_dict()
    with pytest.raises(ValueError, match="n_permutations"):
        trial_shuffles(labels, subjects, trials, 0, seed=3)


def test_chance_from_null_counts_ties_as_good_and_skips_nan() -> None:
    result = chance_from_null(0.5, np.array([0.5, 0.4, np.nan, 0.6]))
    assert result.p_value == (1 + 2) / (1 + 3) and result.n_valid == 3
    assert result.null_mean == pytest.approx(0.5)
    lower = chance_from_null(0.5, np.array([0.5, 0.4, 0.6]), greater_is_better=False)
    assert lower.p_value == (1 + 2) / (1 + 3)
    assert math.isnan(chance_from_null(float("nan"), np.array([0.1])).p_value)
