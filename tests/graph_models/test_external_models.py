"""Models from elsewhere: a config's ``name: "package.module:Class"`` trained by our protocols (graphs.models.external).

The model module is :mod:`tests.graph_models.external_model_fixture`, a tiny
braindecode-style ``ShallowNet(n_chans, n_outputs, n_times, sfreq, n_filters)``.
"""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import ModelSpec, config_from_dict
from biosig.errors import ConfigError, DataError
from graphs.models import ExternalModel, build_model, predict
from graphs.models.base import model_for_weights
from graphs.training.checkpoints import load_checkpoint
from graphs.training.deep_inputs import check_models, input_kind
from graphs.training.experiment import load_model

FIXTURE = "tests.graph_models.external_model_fixture"
SHALLOW = f"{FIXTURE}:ShallowNet"
SIGNAL = {"n_chans": 14, "n_times": 128, "sfreq": 128.0}


def _config_text(out_dir, checkpoints) -> str:
    return (
        "source: {synthetic: {n_subjects: 2, n_trials: 4, stimulus_seconds: 8, baseline_seconds: 12}, via_files: false}\n"
        "models:\n"
        f"  - {{name: '{SHALLOW}', hparams: {{n_filters: 4}}, windows: {{record_seconds: 8}}}}\n"
        "  - {name: logreg_de, windows: {record_seconds: 8}}\n"
        "evaluation: {protocols: [within_subject], tasks: [binary], targets: [valence], n_folds: 2}\n"
        f"train: {{epochs: 2, threads: 1, checkpoint_dir: '{checkpoints}'}}\n"
        f"report: {{out_dir: '{out_dir}'}}\n"
    )


def test_biosig_run_trains_an_external_model_like_ours(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(_config_text(tmp_path / "report", tmp_path / "checkpoints"))
    result = CliRunner().invoke(app, ["run", str(config)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    ours = metrics["logreg_de"]["valence"]["binary"]["within_subject"]
    theirs = metrics[SHALLOW]["valence"]["binary"]["within_subject"]
    assert set(theirs) == set(ours)
    assert 0.0 <= theirs["f1_weighted"] <= 1.0
    assert theirs["parameters"] == sum(p.numel() for p in build_model(SHALLOW, n_outputs=2, **SIGNAL, n_filters=4).parameters())
    assert [f["epochs"] for f in theirs["folds"]] == [2] * 4  # 2 subjects x 2 folds

    # The checkpoint records the "package.module:Class" name and the hyper-parameters, signal parameters included.
    path = theirs["folds"][0]["checkpoint"]
    state, meta = load_checkpoint(path)
    assert meta["model"] == SHALLOW
    hparams = meta["model_config"]
    assert hparams["n_filters"] == 4 and hparams["n_outputs"] == 2
    assert (hparams["n_chans"], hparams["n_times"], hparams["sfreq"]) == (14, 128, 128.0)
    assert len(hparams["chs_info"]) == 14 and "ch_name" in hparams["chs_info"][0]
    model, _ = load_model(path)
    checked = model_for_weights(meta["model"], hparams, state, "fold.pt")
    assert isinstance(checked, ExternalModel) and not checked.training
    x = torch.randn(3, 14, 128, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(predict(checked, x).probabilities, predict(model, x).probabilities)
    with pytest.raises(ConfigError, match="fold.pt: hparams n_filters=5 do not fit the weights"):
        model_for_weights(meta["model"], {**hparams, "n_filters": 5}, state, "fold.pt")
    with pytest.raises(ConfigError, match=r"fold.pt: hparam n_chans=100000 is out of bounds"):
        model_for_weights(meta["model"], {**hparams, "n_chans": 100_000}, state, "fold.pt")


def test_the_model_is_seeded_and_gets_chs_info_when_it_accepts_it():
    a, b = (build_model(SHALLOW, seed=3, n_outputs=5, **SIGNAL) for _ in range(2))
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert input_kind(SHALLOW) == "raw" and a.input_shape == (14, 128)
    chs = [{"ch_name": f"E{i}"} for i in range(14)]
    with_channels = build_model(f"{FIXTURE}:WithChannels", n_outputs=2, **SIGNAL, chs_info=chs)
    assert with_channels.net.ch_names == [f"E{i}" for i in range(14)]
    assert not hasattr(build_model(SHALLOW, n_outputs=2, **SIGNAL, chs_info=chs).net, "ch_names")
    with pytest.raises(DataError, match=r"ShallowNet expects input \(batch, channel=14, time=128\)"):
        a(torch.zeros(2, 13, 128))
    with pytest.raises(DataError, match=r"WrongOutput: must return scores \(2, 5\)"):
        build_model(f"{FIXTURE}:WrongOutput", n_outputs=5, **SIGNAL)(torch.zeros(2, 14, 128))
    with pytest.raises(ConfigError, match=r"ShallowNet takes no hyper-parameter \['depth'\]; it accepts \['n_filters'\]"):
        build_model(SHALLOW, n_outputs=2, **SIGNAL, depth=2)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("tests.graph_models.no_such_module:ShallowNet", "cannot import module 'tests.graph_models.no_such_module'"),
        (f"{FIXTURE}:NoSuchNet", f"module '{FIXTURE}' has no class 'NoSuchNet'"),
        (f"{FIXTURE}:NotAModule", "class NotAModule is not a torch.nn.Module subclass"),
        (f"{FIXTURE}:NOT_A_MODULE", "NOT_A_MODULE is a int, not a torch.nn.Module subclass"),
        (f"{FIXTURE}:NoSignalParameters", "its constructor must accept n_chans, n_outputs, n_times, sfreq"),
    ],
)
def test_errors_name_the_model_entry(name, problem):
    with pytest.raises(ConfigError) as err:
        check_models([ModelSpec(name=name)])
    assert f"models: {name!r}: {problem}" in str(err.value)


@pytest.mark.parametrize("name", ["tests.graph_models:", "a-b:Net", "pkg.mod:Net:extra", ":Net", "pkg.mod:1Net"])
def test_config_checks_the_syntax_of_external_names(name):
    with pytest.raises(ConfigError, match=rf"models.0.name: .*model name {name!r} is neither a zoo model nor of the form"):
        config_from_dict({"models": [{"name": name}]})


def test_biosig_run_reports_a_missing_module_naming_the_entry(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(_config_text(tmp_path / "report", tmp_path / "c").replace(SHALLOW, f"{FIXTURE}_gone:ShallowNet"))
    result = CliRunner().invoke(app, ["run", str(config)])
    assert result.exit_code == 2
    assert f"models: '{FIXTURE}_gone:ShallowNet': cannot import module" in " ".join(result.output.split())
