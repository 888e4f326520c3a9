"""Rebuilding a model from saved weights: hparams are checked against the weights before anything is built.

Before: a 17-21 KB checkpoint declaring ``n_filters = temporal_kernel = 20000`` for HiSTN built the model
(1.8 GB, 7 s) before ``load_state_dict`` refused it.
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import pytest
import torch

from biosig.errors import ConfigError, DataError
from graphs.models import build_model, predict
from graphs.models.base import MAX_HPARAM, model_for_weights
from graphs.training.checkpoints import load_checkpoint, save_checkpoint


def _state(name: str = "histn", **hparams) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in build_model(name, n_outputs=5, **hparams).state_dict().items()}


def test_fitting_weights_give_the_saved_model():
    saved = build_model("histn", seed=3, n_outputs=5)
    model = model_for_weights("histn", {"n_outputs": 5}, saved.state_dict(), "a.pt")
    assert not model.training
    x = torch.randn(2, 14, 128)
    torch.testing.assert_close(predict(model, x).probabilities, predict(saved, x).probabilities)


def test_huge_hparams_are_refused_before_the_model_is_built():
    state = _state()
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"huge\.pt: hparam n_filters=20000 is out of bounds"):
        model_for_weights("histn", {"n_outputs": 5, "n_filters": 20000, "temporal_kernel": 20000}, state, "huge.pt")
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0) / 1024
    assert seconds < 1.0 and peak < 2**20 and grown_mib < 20, (seconds, peak, grown_mib)


@pytest.mark.parametrize(
    ("hparams", "named"),
    [({"n_filters": 16}, "n_filters=16"), ({"temporal_kernel": 900}, "temporal_kernel=900"),
     ({"n_filters": MAX_HPARAM, "temporal_kernel": MAX_HPARAM}, "n_filters=1024, temporal_kernel=1024")],
)  # fmt: skip
def test_hparams_that_do_not_fit_the_weights_are_named_without_building(hparams, named):
    state = _state()
    tracemalloc.start()
    with pytest.raises(ConfigError, match=rf"w\.pt: hparams {named} do not fit the weights .*temporal_kernels"):
        model_for_weights("histn", {"n_outputs": 5, **hparams}, state, "w.pt")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2**20  # the 1024 x 1024 model (4 MiB of weights) was only laid out on the meta device


def test_other_bad_hparams_name_the_source():
    state = _state()
    with pytest.raises(ConfigError, match="w.pt: metadata 'hparams' must be a mapping"):
        model_for_weights("histn", [1, 2], state, "w.pt")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="w.pt: model histn: n_filters"):
        model_for_weights("histn", {"n_filters": "many"}, state, "w.pt")
    with pytest.raises(ConfigError, match=r"w\.pt: hparam node_hops=\[2, 2, 2, 100000\] is out of bounds"):
        model_for_weights("histn", {"node_hops": [2, 2, 2, 100000]}, state, "w.pt")
    with pytest.raises(ConfigError, match=r"missing \['classifier.bias'\]"):
        model_for_weights("histn", {"n_outputs": 5}, {k: v for k, v in state.items() if k != "classifier.bias"}, "w.pt")


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "metadata is not JSON"), ("[1, 2]", "metadata must be a JSON object, got a list"),
     ("[" * 100_000, "metadata is not JSON")],
)  # fmt: skip
def test_checkpoint_metadata_that_is_not_a_json_object_is_a_data_error(tmp_path, text, message):
    good = save_checkpoint(tmp_path / "good.pt", build_model("logreg_de"), {"model": "logreg_de"})
    assert load_checkpoint(good)[1] == {"model": "logreg_de"}
    path = tmp_path / "bad.pt"
    torch.save({"format": 1, "state_dict": {}, "metadata": text}, path)
    with pytest.raises(DataError, match=rf"checkpoint {path}: its {message}"):
        load_checkpoint(path)
