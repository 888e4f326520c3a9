"""The feature baseline's chance reference is a stratified random guess (pinned: not most-frequent, not uniform)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from biosig.evaluation.baseline import predict_folds


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
