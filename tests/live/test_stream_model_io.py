"""Live-model checkpoints: round trip through the trainer's format, and the errors that protect the montage."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import ConfigError, DataError
from graphs.models import build_model, predict
from graphs.regions import emotiv14_histn
from graphs.training.trainer import load_checkpoint, save_checkpoint
from streaming.model_io import LiveModel, LiveSpec, TargetModel, live_metadata, load_live_model, save_live_checkpoint
from tests.helpers import EMOTIV

SPEC = LiveSpec(
    emotiv14_histn().channels, 128.0, WindowConfig(length=1.0, hop=0.125), FilterConfig(method="iir", causal=True),
    "average", FeatureConfig(), offset=np.zeros(14), scale=np.full(14, 2e-5),
)  # fmt: skip


def _save(tmp_path, name, target, seed=0, spec=SPEC, **hparams):
    model = build_model(name, seed=seed, n_outputs=5, **hparams)
    meta = live_metadata(name, {"n_outputs": 5, **hparams}, spec, target=target, scale=[1, 2, 3, 4, 5])
    return model, save_live_checkpoint(tmp_path / f"{target}.pt", model, meta)


def test_checkpoints_load_into_a_live_model_that_predicts_as_the_saved_models(tmp_path):
    histn, valence = _save(tmp_path, "histn", "valence", seed=3)
    dgcnn, arousal = _save(tmp_path, "dgcnn", "arousal", seed=4)
    live = load_live_model([valence, arousal], hop=0.25)
    assert live.targets == ("valence", "arousal")
    assert live.spec.window.hop == 0.25 and live.spec.window.length == 1.0
    np.testing.assert_array_equal(live.spec.scale, SPEC.scale)
    assert live.spec.filter == SPEC.filter and live.spec.reference == "average"
    x = torch.randn(4, 14, 128)
    de = torch.randn(4, 14, 5)
    ratings = np.arange(1.0, 6.0)
    loaded_valence, loaded_arousal = (predict(m.model, v, m.scale).expected for m, v in zip(live.models, (x, de)))
    np.testing.assert_allclose(loaded_valence, predict(histn, x, ratings).expected)
    np.testing.assert_allclose(loaded_arousal, predict(dgcnn, de, ratings).expected)
    state, meta = load_checkpoint(valence)  # the trainer's reader, weights_only=True
    assert meta["model"] == "histn" and meta["channels"] == list(EMOTIV) and "hierarchy" in meta["hparams"]


def test_checkpoints_that_disagree_on_the_input_are_refused(tmp_path):
    _, valence = _save(tmp_path, "dgcnn", "valence")
    other = LiveSpec(SPEC.channels, 128.0, WindowConfig(length=2.0, hop=0.5), SPEC.filter, "average", FeatureConfig())
    _, arousal = _save(tmp_path, "dgcnn", "arousal", spec=other)
    with pytest.raises(ConfigError, match="disagree on 'normalization'|disagree on 'window'"):
        load_live_model([valence, arousal])


def test_a_model_that_does_not_fit_the_live_input_is_refused():
    spec = LiveSpec(SPEC.channels, 256.0, SPEC.window, SPEC.filter, "average", FeatureConfig())
    with pytest.raises(ConfigError, match=r"expects input \(14, 128\).*\(14, 256\)"):
        LiveModel(spec, [TargetModel(build_model("histn"), ("valence",), np.arange(1.0, 6.0))])
    reordered = LiveSpec(tuple(reversed(SPEC.channels)), 128.0, SPEC.window, SPEC.filter, None, FeatureConfig())
    with pytest.raises(ConfigError, match="in this order"):
        LiveModel(reordered, [TargetModel(build_model("histn"), ("valence",), np.arange(1.0, 6.0))])
    with pytest.raises(ConfigError, match="predicted by both"):
        dgcnn = build_model("dgcnn")
        twice = [TargetModel(dgcnn, ("arousal",), np.arange(5.0), f"{name}.pt") for name in "ab"]
        LiveModel(SPEC, twice)


def test_a_checkpoint_without_the_live_keys_names_them(tmp_path):
    path = save_checkpoint(tmp_path / "bare.pt", build_model("dgcnn"), {"model": "dgcnn", "hparams": {}})
    with pytest.raises(ConfigError, match=r"lacks \['channels', 'sfreq', 'window'\]"):
        load_live_model(path)
    with pytest.raises(DataError, match="does not exist"):
        load_live_model(tmp_path / "missing.pt")


def test_a_biosig_train_checkpoint_loads_once_the_live_keys_are_added(tmp_path):
    from biosig.config import TrainConfig, TrainWindowConfig

    model = build_model("dgcnn", seed=2)
    trained = {"model": "dgcnn", "model_config": model.config.model_dump(mode="json"), "target": "arousal",
               "task": "five_class", "train_config": {**TrainConfig().model_dump(mode="json"),
                                "windows": TrainWindowConfig().model_dump(mode="json")}}  # fmt: skip
    bare = save_checkpoint(tmp_path / "trained.pt", model, trained)
    with pytest.raises(ConfigError, match=r"lacks \['channels', 'sfreq', 'normalization'\]"):
        load_live_model(bare)
    completed = {**trained, "channels": list(EMOTIV), "sfreq": 128.0,
                 "normalization": {"offset": [0.0] * 14, "scale": [1e-5] * 14}}  # fmt: skip
    live = load_live_model(save_checkpoint(tmp_path / "completed.pt", model, completed))
    assert live.spec.window == WindowConfig(length=1.0, hop=1.0)  # TrainWindowConfig()
    assert live.spec.filter is None and live.models[0].scale.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
