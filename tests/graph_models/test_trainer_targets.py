"""The trainer's best-epoch tracking shared across fits, and that it trains on the configured soft targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biosig.config import TrainConfig
from graphs.training.label_smoothing import smoothed_targets
from graphs.training.trainer import BestTracker, fit

CFG = TrainConfig(epochs=4, batch_size=32, lr=5e-2, lr_steps={}, patience=None, seed=3, threads=1, steps_per_epoch=6)


def _blobs(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, 10) whose class (0 or 1) shifts three features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 10)).astype(np.float32)
    x[:, :3] += 3.0 * y[:, None]
    return x, y


def _linear(seed: int) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(10, 2)


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_shared_tracker_restores_an_earlier_fit_when_the_next_never_improves() -> None:
    x, y = _blobs()
    first, second, alone = _linear(0), _linear(1), _linear(1)
    shared = BestTracker()
    r1 = fit(first, x[:160], y[:160], x[160:], y[160:], 2, CFG, best=shared)
    assert not r1.restored_earlier_fit and r1.best_epoch >= 0 and shared.owner == 0
    # The second fit validates on flipped labels: its loss stays above the first fit's best.
    r2 = fit(second, x[:160], y[:160], x[160:], 1 - y[160:], 2, CFG, best=shared)
    assert min(h["val_loss"] for h in r2.history) > shared.loss
    assert r2.restored_earlier_fit and r2.best_epoch == -1 and shared.fits == 2 and shared.owner == 0
    assert _same_weights(second, first)
    # Default (a fresh tracker per fit): the same second fit keeps its own best epoch.
    r3 = fit(alone, x[:160], y[:160], x[160:], 1 - y[160:], 2, CFG)
    assert not r3.restored_earlier_fit and r3.best_epoch >= 0
    assert not _same_weights(alone, first)


def test_shared_tracker_follows_a_later_fit_that_improves() -> None:
    x, y = _blobs()
    shared = BestTracker()
    first, second = _linear(0), _linear(1)
    fit(first, x[:160], y[:160], x[160:], 1 - y[160:], 2, CFG, best=shared)
    r2 = fit(second, x[:160], y[:160], x[160:], y[160:], 2, CFG, best=shared)
    assert not r2.restored_earlier_fit and shared.owner == 1 and r2.best_epoch >= 0


class ConstantLogits(nn.Module):
    """Logits that ignore the input: one learnable bias per class, starting at zero."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(len(x), -1)


def _fitted_distribution(label_mode: str, sigma: float) -> np.ndarray:
    """Class probabilities a constant model learns from windows all of class 2 (5 classes)."""
    x, y = np.zeros((64, 1), np.float32), np.full(64, 2)
    cfg = TrainConfig(
        epochs=30, batch_size=16, lr=5e-2, lr_steps={15: 1e-2, 25: 2e-3}, patience=None, seed=0, threads=1,
        steps_per_epoch=20, label_mode=label_mode, sigma=sigma,
    )  # fmt: skip
    model = ConstantLogits(5)
    fit(model, x, y, None, None, 5, cfg)
    return torch.softmax(model.bias.detach(), 0).numpy()


@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_fit_trains_on_the_smoothed_targets_with_the_configured_sigma(sigma: float) -> None:
    # Soft-target cross-entropy of a constant model is minimal where its softmax equals the target q
    # (HiSTN's sigma 0.5: [0.0003, 0.1065, 0.7866, 0.1065, 0.0003]); one-hot targets would push p[2] to 1.
    q = smoothed_targets(np.array([2]), 5, sigma)[0]
    np.testing.assert_allclose(_fitted_distribution("smoothing", sigma), q, atol=0.01)


def test_one_hot_training_differs_from_smoothed() -> None:
    p = _fitted_distribution("onehot", 0.5)
    assert p[2] > 0.95 and p[1] < 0.02
