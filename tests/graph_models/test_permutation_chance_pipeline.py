"""Permutation chance through the feature baseline's whole fold loop, and the trial folds every model shares."""

import numpy as np
import pytest
import xarray as xr

from biosig.config import EvaluationConfig
from biosig.evaluation.baseline import evaluate_cohort
from biosig.evaluation.chance import shuffle_trial_labels
from biosig.evaluation.trial_folds import trial_fold_splits
from graphs.training.folds import shared_trial_folds
from tests.helpers import feature_windows, trial_grid


def _cohort(seed: int = 0, n_subjects: int = 3, n_trials: int = 10, per_trial: int = 3, effect: float = 4.0) -> xr.Dataset:
    """Windows whose features carry the trial's binary valence (``effect`` SDs), a per-trial offset, and noise.

    The per-trial offset (what makes windows of one trial alike in real EEG) is
    where window-level shuffling would find structure; trial-level shuffling must not.
    """
    rng = np.random.default_rng(seed)
    subjects, trials = trial_grid(n_subjects, n_trials, per_trial)
    # Sorted: a set of str tuples iterates in an order that changes with each process's hash seed.
    trial_rating = {(s, t): rng.choice([2.0, 4.0]) for s, t in sorted(set(zip(subjects, trials)))}
    ratings = np.array([trial_rating[(s, t)] for s, t in zip(subjects, trials)])
    offsets = {key: rng.normal(size=3) for key in sorted(trial_rating)}
    trial_offset = np.array([offsets[(s, t)] for s, t in zip(subjects, trials)])
    de = rng.normal(size=(len(ratings), 3)) + trial_offset + effect * (ratings > 3)[:, None]
    return feature_windows(de, subjects, trials, per_trial, valence=ratings)


def _chance(features: xr.Dataset, permutations: int = 19) -> dict:
    cfg = EvaluationConfig(targets=("valence",), tasks=("binary",), protocols=("within_subject",), n_folds=5,
                           permutations=permutations)  # fmt: skip
    metrics, predictions = evaluate_cohort(features, cfg, C=1.0, seed=0)
    return metrics["valence"]["binary"]["within_subject"], predictions


def test_labels_shuffled_in_advance_score_inside_their_permutation_distribution():
    features = _cohort()
    real, _ = _chance(features)
    assert real["permutation"]["p_value"] == pytest.approx(1 / 20)  # the effect is found: no null run reaches it
    # Features without the effect, whose labels were shuffled between trials before the pipeline.
    blind = _cohort(effect=0.0)
    rng = np.random.default_rng(7)
    values = blind["valence"].values
    shuffled = shuffle_trial_labels(values, blind["subject"].values, blind["trial"].values, rng)
    null, _ = _chance(blind.assign(valence=("window", shuffled)))
    permutation = null["permutation"]
    assert permutation["p_value"] > 0.05
    assert permutation["observed"] == pytest.approx(null["f1_weighted"])
    assert len(permutation["null"]) == 19 and permutation["n_valid"] == 19


def test_without_permutations_the_entry_has_no_permutation_null():
    entry, predictions = _chance(_cohort(), permutations=0)
    assert "permutation" not in entry and "chance_f1_weighted" in entry
    assert set(predictions["fold"]) == {f"S{i:02d}/{k}" for i in range(1, 4) for k in range(5)}


def test_feature_and_deep_windows_hold_out_the_same_trials():
    """Two window tables of one cohort (4-s feature windows, 1-s deep windows) get the same held-out trials."""
    features = _cohort(per_trial=3)
    coarse = (features["subject"].values, features["trial"].values, (features["valence"].values > 3).astype(int))
    fine = tuple(np.repeat(a, 4) for a in coarse)
    feature_folds = {name: set(zip(coarse[0][test], coarse[1][test])) for name, _, test in trial_fold_splits(*coarse, 5, 3)}
    deep_folds = list(shared_trial_folds(*fine, 5, 3))
    assert {f.name: set(zip(fine[0][f.test], fine[1][f.test])) for f in deep_folds} == feature_folds
    for fold in deep_folds:
        val_trials = set(zip(fine[0][fold.val], fine[1][fold.val]))
        train_trials = set(zip(fine[0][fold.train], fine[1][fold.train]))
        assert val_trials and not val_trials & train_trials
        assert not (val_trials | train_trials) & feature_folds[fold.name]
