"""The feature baseline's chance reference is a stratified random guess (pinned: not most-frequent, not uniform),
and its fold fits grouped into tasks (shared scaling, worker processes) give the serial pipeline's numbers exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.metrics import accuracy_score

from biosig.config import EvaluationConfig
from biosig.evaluation.baseline import (
    FoldData,
    evaluate_cohort,
    fit_fold,
    fold_predictions,
    labels_for,
    make_classifier,
    predict_folds,
    splits_for,
)
from biosig.evaluation.chance import permutation_chance
from biosig.evaluation.metrics import classification_scores
from biosig.features.extract import feature_matrix
from tests.helpers import feature_windows, trial_grid


def test_chance_reference_draws_the_training_class_frequencies() -> None:
    # 70/30 labels, one fold: the stratified guess predicts class 1 about 30% of the time and scores
    # about 0.7 * 0.7 + 0.3 * 0.3 = 0.58 accuracy; a most-frequent guess would predict only class 0
    # (accuracy 0.70), a uniform one class 1 half the time.
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=4000) < 0.3).astype(int)
    x = rng.normal(size=(4000, 3))
    rows = np.arange(4000)
    splits = iter([("0", rows[:1000], rows[1000:])])
    _pred, chance = predict_folds(x, y, splits, C=1.0, seed=0)
    test = chance[1000:]
    assert set(np.unique(test)) == {0, 1}
    assert test.mean() == pytest.approx(y[:1000].mean(), abs=0.03)
    assert accuracy_score(y[1000:], test) == pytest.approx(0.58, abs=0.03)


def _windows(seed: int = 0, n_subjects: int = 3, n_trials: int = 10, per_trial: int = 3) -> xr.Dataset:
    """Windows of rated trials whose features follow the ratings, with a few NaN features (imputed)."""
    rng = np.random.default_rng(seed)
    subjects, trials = trial_grid(n_subjects, n_trials, per_trial)
    trial_rating = {key: float(rng.integers(1, 6)) for key in sorted(set(zip(subjects, trials)))}
    ratings = np.array([trial_rating[key] for key in zip(subjects, trials)])
    de = rng.normal(size=(len(ratings), 4)) + 0.8 * ratings[:, None]
    de[rng.uniform(size=de.shape) < 0.05] = np.nan
    return feature_windows(de, subjects, trials, per_trial, valence=ratings, arousal=ratings[::-1].copy())


def test_fit_fold_shares_the_scaling_and_equals_one_pipeline_per_label_set() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 5))
    x[rng.uniform(size=x.shape) < 0.1] = np.nan
    y_sets = [rng.integers(0, 2, 100), rng.integers(1, 6, 100), np.full(100, 3)]
    fits = fit_fold(FoldData(x[:100], x[100:], y_sets), C=0.1, seed=0)
    for y_train, (pred, expected) in zip(y_sets, fits):
        if len(np.unique(y_train)) == 1:
            assert (pred == 3).all() and (expected == 3.0).all()
            continue
        model = make_classifier(0.1, 0).fit(x[:100], y_train)
        np.testing.assert_array_equal(pred, model.predict(x[100:]))
        np.testing.assert_array_equal(expected, model.predict_proba(x[100:]) @ model.classes_)


def test_fold_processes_give_the_serial_numbers_exactly() -> None:
    features = _windows()
    cfg = EvaluationConfig(targets=("valence", "arousal"), tasks=("binary", "five_class"),
                           protocols=("within_subject", "loso"), n_folds=3, permutations=3)  # fmt: skip
    serial, serial_pred = evaluate_cohort(features, cfg, C=0.1, seed=0)
    parallel, parallel_pred = evaluate_cohort(features, cfg, C=0.1, seed=0, workers=2)
    assert json.dumps(parallel, sort_keys=True) == json.dumps(serial, sort_keys=True)
    pd.testing.assert_frame_equal(parallel_pred, serial_pred)
    entry = serial["valence"]["five_class"]["loso"]["permutation"]
    assert entry["n_valid"] == 3 and len(entry["null"]) == 3


def test_permutation_entry_is_the_serial_rerun_of_every_fold_loop() -> None:
    # The reference: permutation_chance rerunning fold_predictions on each shuffle, as the baseline did before
    # the folds' fits were grouped into tasks.
    features = _windows(seed=2)
    cfg = EvaluationConfig(targets=("valence",), tasks=("binary",), protocols=("within_subject",), n_folds=3,
                           permutations=4)  # fmt: skip
    metrics, _ = evaluate_cohort(features, cfg, C=0.1, seed=0)
    entry = metrics["valence"]["binary"]["within_subject"]
    x, _ = feature_matrix(features)
    y = labels_for(features["valence"].values, "binary", cfg.threshold)
    subjects, trials = features["subject"].values, features["trial"].values
    splits = list(splits_for("within_subject", features, y, cfg.n_folds, 0))
    pred, chance, _expected = fold_predictions(x, y, splits, 0.1, 0)
    assert classification_scores(y, pred, subjects, [0, 1])["f1_weighted"] == entry["f1_weighted"]
    assert classification_scores(y, chance, subjects, [0, 1])["f1_weighted"] == entry["chance_f1_weighted"]

    def evaluate(labels: np.ndarray) -> float:
        return classification_scores(labels, predict_folds(x, labels, splits, 0.1, 0)[0], subjects, [0, 1])["f1_weighted"]

    reference = permutation_chance(evaluate, y, subjects, trials, 4, 0, observed=entry["f1_weighted"])
    assert reference.to_dict() == entry["permutation"]
