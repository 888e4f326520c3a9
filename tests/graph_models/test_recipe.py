"""HiSTN's recipe options: records rebuilt for crops, training on a crop sampler, keep: last, the config checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from torch import nn

from biosig.config import TrainConfig
from biosig.errors import ConfigError
from graphs.training.crops import CropSampler
from graphs.training.recipe import authors_fold_scores, trial_records
from graphs.training.trainer import fit
from graphs.training.window_set import WindowSet, WindowSettings


def _windows(hop: int) -> tuple[WindowSet, np.ndarray]:
    """Windows of 4 samples every ``hop`` samples over 2 trials of 16 samples at 4 Hz (1-s windows, 4-s records)."""
    records = np.arange(2 * 3 * 16, dtype=np.float32).reshape(2, 3, 16)
    starts = np.arange(0, 13, hop)
    x = np.stack([records[r, :, s : s + 4] for r in range(2) for s in starts])
    meta = pd.DataFrame({"subject": "S01", "trial": np.repeat([1, 2], len(starts)), "offset": np.tile(starts / 4.0, 2)})
    settings = WindowSettings(length=1.0, hop=hop / 4.0, record_seconds=4.0)
    return WindowSet(x, meta, ("channel", "time"), ("a", "b", "c"), 4.0, settings), records


def test_trial_records_rebuild_the_records_from_covering_windows():
    data, records = _windows(hop=4)
    rebuilt = trial_records(data)
    np.testing.assert_array_equal(rebuilt.x, records)
    assert rebuilt.crop_samples == 4 and list(rebuilt.trial) == [1, 2] and list(rebuilt.first[:4]) == [0, 4, 8, 12]


def test_trial_records_refuse_windows_with_gaps_and_feature_inputs():
    data, _ = _windows(hop=6)
    with pytest.raises(ConfigError, match="cover each record"):
        trial_records(data)
    data, _ = _windows(hop=4)
    with pytest.raises(ConfigError, match="raw EEG windows"):
        trial_records(WindowSet(data.x, data.meta, ("channel", "band"), data.ch_names, 4.0, data.settings))


def test_fit_on_crops_takes_the_authors_steps_and_keep_last_keeps_the_last_epoch():
    rng = np.random.default_rng(0)
    records = rng.normal(size=(6, 2, 40)).astype(np.float32)
    labels = np.array([0, 1, 0, 1, 0, 1])
    records[labels == 1] += 2.0
    sampler = CropSampler(records, labels, [[0, 40]], crop_samples=8, seed=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    x_val = records[:, :, :8]
    cfg = TrainConfig(epochs=3, batch_size=16, lr=1e-2, lr_steps={}, threads=1, keep="last")
    result = fit(model, None, None, x_val, labels, 2, cfg, crops=sampler)
    assert result.steps_per_epoch == 6 * 33 // 16
    assert result.best_epoch == 2 and result.epochs_run == 3
    with pytest.raises(ConfigError, match="classifiers only"):
        fit(model, None, None, None, None, 1, cfg, crops=sampler, regression=True)


def test_shared_best_needs_serial_folds_and_the_best_checkpoint():
    assert TrainConfig(shared_best=True).shared_best
    with pytest.raises(ValidationError, match="workers: 1"):
        TrainConfig(shared_best=True, workers=2)
    with pytest.raises(ValidationError, match="keep: last"):
        TrainConfig(shared_best=True, keep="last")


def test_authors_fold_scores_average_folds_then_subjects_and_drop_ordinal_scores_of_two_classes():
    table = pd.DataFrame({"subject": ["A", "A", "A", "B"], "fold": ["A/0", "A/0", "A/1", "B/0"], "label": [0, 1, 1, 0]})
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    scores = authors_fold_scores(table, proba, 2)
    assert set(scores) == {"authors_top1_accuracy", "authors_f1_weighted"}
    # A: folds 1.0 and 1.0 (top-1 over the one class present), B: 1.0.
    assert scores["authors_top1_accuracy"] == pytest.approx(1.0)
