"""Condition targets through the feature baseline: classes, tasks, ROC AUC, and protocols skipped with notes."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from biosig.config import EvaluationConfig
from biosig.evaluation.baseline import evaluate_cohort
from biosig.evaluation.targets import condition_classes, condition_task, protocol_skip, target_tasks
from tests.helpers import feature_windows, trial_grid


def _cohort(conditions=("arithmetic", "rest"), n_subjects=3, n_trials=12, per_trial=3, effect=3.0, seed=0):
    """Windows whose features shift with the trial's condition (``effect`` SDs per class index), plus NaN valence."""
    rng = np.random.default_rng(seed)
    subjects, trials = trial_grid(n_subjects, n_trials, per_trial)
    # Conditions cycle over the trials, so every subject has n_trials / n_conditions of each.
    index = (trials - 1) % len(conditions)
    names = np.array(conditions, dtype=object)[index]
    de = rng.normal(size=(len(trials), 4)) + effect * index[:, None]
    valence = np.full(len(trials), np.nan)
    return feature_windows(de, subjects, trials, per_trial, valence=valence, condition=names.astype(str))


def _cfg(**kw) -> EvaluationConfig:
    defaults = dict(targets=("condition",), tasks=("five_class",), protocols=("within_subject", "loso"), n_folds=3)
    return EvaluationConfig(**(defaults | kw))


def test_classes_are_sorted_conditions_and_the_task_follows_their_number():
    assert condition_classes(["rest", "arithmetic", "rest", None]) == ("arithmetic", "rest")
    assert condition_task(("a", "b")) == "binary"
    assert condition_task(("a", "b", "c")) == "multiclass"
    combos, notes = target_tasks("condition", np.array(["b", "a"]), ["five_class"])
    assert [(c.task, c.classes) for c in combos] == [("binary", ("a", "b"))] and notes == []


def test_binary_condition_beats_chance_and_has_roc_auc_matching_sklearn():
    notes: list[str] = []
    metrics, predictions = evaluate_cohort(_cohort(), _cfg(), C=1.0, seed=0, notes=notes)
    assert list(metrics["condition"]) == ["binary"]  # evaluation.tasks (five_class) applies to ratings only
    for protocol in ("within_subject", "loso"):
        entry = metrics["condition"]["binary"][protocol]
        assert entry["classes"] == ["arithmetic", "rest"]
        assert entry["f1_weighted"] > entry["chance_f1_weighted"] + 0.2
        assert entry["roc_auc"] > 0.9
    # ROC AUC by hand on one LOSO fold (the test subject S02).
    rows = predictions[(predictions["protocol"] == "loso") & (predictions["fold"] == "S02")]
    expected = roc_auc_score(rows["y_true"], rows["expected"])
    assert metrics["condition"]["binary"]["loso"]["roc_auc_per_subject"]["S02"] == pytest.approx(expected)
    assert not any("ROC AUC" in n for n in notes)


def test_three_conditions_are_a_multiclass_task_without_roc_auc():
    metrics, predictions = evaluate_cohort(_cohort(("a", "b", "c")), _cfg(), C=1.0, seed=0)
    entry = metrics["condition"]["multiclass"]["within_subject"]
    assert entry["classes"] == ["a", "b", "c"] and "roc_auc" not in entry
    assert entry["confusion_matrix"]["labels"] == [0, 1, 2]
    assert entry["f1_weighted"] > entry["chance_f1_weighted"] + 0.2
    assert set(predictions["y_true"]) == {0, 1, 2}


def test_rating_binary_task_gains_roc_auc():
    features = _cohort()
    valence = np.where(features["condition"].values == "rest", 4.0, 2.0)
    metrics, _ = evaluate_cohort(features.assign(valence=("window", valence)), _cfg(targets=("valence",), tasks=("binary",)), C=1.0, seed=0)
    assert metrics["valence"]["binary"]["within_subject"]["roc_auc"] > 0.9


def test_skips_are_notes_not_errors():
    one = _cohort(n_subjects=1, n_trials=4)  # 2 trials of each condition, 1 subject
    notes: list[str] = []
    metrics, predictions = evaluate_cohort(one, _cfg(targets=("condition", "valence")), C=1.0, seed=0, notes=notes)
    assert metrics == {} and predictions.empty
    assert any("loso skipped" in n and "the cohort has 1" in n for n in notes)
    assert any("within_subject skipped" in n and "at least 3 trials of each condition" in n and "has 2 of" in n for n in notes)
    assert any("valence: no ratings in the source" in n for n in notes)


def test_protocol_skip_counts_trials_per_subject_for_ratings():
    subjects = np.repeat(["S01", "S02"], 4)
    trials = np.tile([1, 2, 3, 4], 2)
    labels = np.tile([0, 0, 0, 1], 2)
    assert protocol_skip("within_subject", subjects, trials, labels, 3, condition=False) is None
    assert "has 1 of" in protocol_skip("within_subject", subjects, trials, labels, 3, condition=True)
    assert "subject S01 has 4" in protocol_skip("within_subject", subjects, trials, labels, 5, condition=False)
    assert protocol_skip("loso", subjects, trials, labels, 5, condition=True) is None
