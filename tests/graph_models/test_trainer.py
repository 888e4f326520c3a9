import pickle

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from torch import nn

from biosig.config import TrainConfig
from biosig.errors import ConfigError, DataError
from graphs.models import build_model
from graphs.training.trainer import (
    draw_batch,
    evaluate_loss,
    fit,
    load_checkpoint,
    predict_proba,
    resolve_device,
    save_checkpoint,
)


def _blobs(n=240, seed=0, n_classes=2):
    """DE-shaped inputs (n, 14, 5) whose class shifts the mean of a few features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    x = rng.normal(size=(n, 14, 5)).astype(np.float32)
    x[:, :3, 2] += 3.0 * y[:, None]
    return x, y


CFG = TrainConfig(epochs=4, batch_size=32, lr=1e-2, lr_steps={}, patience=None, seed=3, threads=1)


class Counting(nn.Module):
    """A linear classifier that counts how often the trainer calls apply_constraints."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.linear = nn.Linear(70, 2)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))

    def apply_constraints(self) -> None:
        self.calls += 1


def test_fit_learns_and_calls_constraints_after_every_step():
    x, y = _blobs()
    model = Counting()
    result = fit(model, x[:160], y[:160], x[160:], y[160:], 2, CFG.model_copy(update={"steps_per_epoch": 7, "lr": 0.05}))
    assert model.calls == 4 * 7
    assert result.epochs_run == 4 and result.device == "cpu"
    assert (predict_proba(model, x[160:]).argmax(axis=1) == y[160:]).mean() > 0.8


def test_histn_max_norm_holds_after_training():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 14, 128)).astype(np.float32)
    y = rng.integers(0, 5, 64)
    model = build_model("histn", n_outputs=5)
    fit(model, x, y, None, None, 5, CFG.model_copy(update={"epochs": 2, "lr": 0.5}))
    assert model.merge.abs().max() <= 1 + 1e-6
    assert torch.linalg.vector_norm(model.temporal_depthwise, dim=1).max() <= 1 + 1e-6


def test_same_seed_same_weights_other_seed_other_weights():
    x, y = _blobs()

    def run(seed):
        model = build_model("dgcnn", n_outputs=2, seed=0)
        result = fit(model, x[:160], y[:160], x[160:], y[160:], 2, CFG.model_copy(update={"seed": seed}))
        return model.state_dict(), result.history

    (a, ha), (b, hb), (c, _) = run(1), run(1), run(2)
    assert ha == hb
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert not torch.are_deterministic_algorithms_enabled(), "fit must restore the global determinism flag"


def test_lr_schedule_and_early_stopping_restore_the_best_epoch():
    x, y = _blobs()
    # Validation labels are the opposite of the training rule: learning makes the validation loss rise.
    model = Counting()
    cfg = CFG.model_copy(update={"epochs": 30, "patience": 2, "lr_steps": {1: 5e-3}})
    result = fit(model, x[:160], y[:160], x[160:], 1 - y[160:], 2, cfg)
    assert [h["lr"] for h in result.history[:3]] == [1e-2, 5e-3, 5e-3]
    assert result.epochs_run == result.best_epoch + 1 + 2 < 30
    best = min(h["val_loss"] for h in result.history)
    assert evaluate_loss(model, x[160:], 1 - y[160:]) == pytest.approx(best, rel=1e-6)


def test_validation_loss_is_one_hot_cross_entropy():
    x, y = _blobs(n=50)
    model = Counting()
    proba = predict_proba(model, x)
    assert evaluate_loss(model, x, y) == pytest.approx(log_loss(y, proba, labels=[0, 1]), rel=1e-5)


def test_balanced_batches_draw_classes_uniformly():
    y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    rows = draw_batch(np.random.default_rng(0), y, 30000, balanced=True)
    share = np.bincount(y[rows], minlength=3) / len(rows)
    np.testing.assert_allclose(share, 1 / 3, atol=0.015)
    assert len(np.unique(rows[y[rows] == 2])) == 10, "every window of the rare class is drawn"
    plain = draw_batch(np.random.default_rng(0), y, 30000, balanced=False)
    np.testing.assert_allclose(np.bincount(y[plain], minlength=3) / 30000, [0.9, 0.09, 0.01], atol=0.01)


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    x, y = _blobs()
    model = build_model("dgcnn", n_outputs=2)
    fit(model, x[:160], y[:160], None, None, 2, CFG)
    meta = {"model": "dgcnn", "model_config": model.config.model_dump(mode="json"), "seed": 3}
    path = save_checkpoint(tmp_path / "m.pt", model, meta)
    # Readable by torch's safe loader alone: tensors, ints and a JSON string.
    blob = torch.load(path, weights_only=True)
    assert isinstance(blob["metadata"], str)
    state, read_meta = load_checkpoint(path)
    assert read_meta == meta
    clone = build_model("dgcnn", **read_meta["model_config"])
    clone.load_state_dict(state)
    np.testing.assert_array_equal(predict_proba(clone, x[160:]), predict_proba(model, x[160:]))


class Payload:
    def __reduce__(self):
        return (print, ("this would run on load",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_checkpoint_loading_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "state_dict": {}, "metadata": "{}", "x": Payload()}, path)
    with pytest.raises(DataError, match="cannot be read safely"):
        load_checkpoint(path)
    with open(tmp_path / "plain.pt", "wb") as fh:
        pickle.dump({"format": 1}, fh)
    with pytest.raises(DataError):
        load_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(DataError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ConfigError, match="JSON"):
        save_checkpoint(tmp_path / "m.pt", Counting(), {"bad": object()})


def test_bad_inputs_and_devices():
    x, y = _blobs(n=20)
    with pytest.raises(DataError, match="training labels"):
        fit(Counting(), x, y + 5, None, None, 2, CFG)
    with pytest.raises(ConfigError, match="freeze"):
        fit(Counting(), x, y, None, None, 2, CFG, freeze=("no_such_layer",))
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.warns(RuntimeWarning, match="no GPU"):
            assert resolve_device("cuda").type == "cpu"
    assert resolve_device("cpu").type == "cpu"


def test_frozen_parameters_do_not_move():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 14, 128)).astype(np.float32)
    y = rng.integers(0, 2, 48)
    model = build_model("histn", n_outputs=2)
    before = model.temporal_kernels.detach().clone()
    merge = model.merge.detach().clone()
    fit(model, x, y, None, None, 2, CFG.model_copy(update={"epochs": 1}), freeze=("temporal_kernels",))
    assert torch.equal(model.temporal_kernels, before)
    assert not torch.equal(model.merge, merge)
