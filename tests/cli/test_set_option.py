"""``--set dotted.key=value`` on every command that reads a config: run, preprocess, train, distill.

The live commands (stream, calibrate, replay, record, liveview) read no config
file; their settings are options, so they take no ``--set``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from biosig.cli import app

TINY = {
    "source": {
        "synthetic": {"n_subjects": 3, "n_trials": 6, "baseline_seconds": 12, "stimulus_seconds": 16},
        "via_files": False,
    },
    "models": [{"name": "logreg"}],
    "evaluation": {"targets": ["valence"], "tasks": ["binary"], "protocols": ["within_subject"], "n_folds": 3},
}

#: The distill command's smallest valid config (training is replaced by a stub in these tests).
TINY_DISTILL = {
    "teacher": {"source": {"kind": "synthetic", "synthetic": {"n_subjects": 2, "n_trials": 4}}, "epochs": 1},
    "faces": {"kind": "synthetic", "n_per_class": 5},
    "student": {"epochs": 1},
}


def _config(tmp_path: Path, data: dict, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**data, "report": {"out_dir": str(tmp_path / "from_file")}}))
    return path


def test_run_uses_the_values_given_with_set(tmp_path: Path) -> None:
    config = _config(tmp_path, TINY)
    out = tmp_path / "from_set"
    result = CliRunner().invoke(
        app, ["run", str(config), "--set", f"report.out_dir={out}", "--set", "source.synthetic.n_subjects=2"]
    )
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run_info.json").read_text())
    assert info["n_subjects"] == 2
    assert set(json.loads((out / "metrics.json").read_text())["logreg"]["valence"]["binary"]["within_subject"]
               ["per_subject"]) == {"S01", "S02"}  # fmt: skip
    assert not (tmp_path / "from_file").exists()


def test_train_uses_set_and_out_still_wins_over_it(tmp_path: Path) -> None:
    config = _config(tmp_path, TINY)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["train", str(config), "--set", "evaluation.targets=[arousal]", "--set", "source.synthetic.n_subjects=2",
         "--set", f"report.out_dir={tmp_path / 'from_set'}", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["logreg"]) == ["arousal"]
    assert not (tmp_path / "from_set").exists() and not (tmp_path / "from_file").exists()


def test_preprocess_uses_the_values_given_with_set(tmp_path: Path) -> None:
    config = _config(tmp_path, TINY)
    cache = tmp_path / "cache"
    result = CliRunner().invoke(
        app, ["preprocess", str(config), "--set", f"cache.dir={cache}", "--set", "source.synthetic.n_subjects=2"]
    )
    assert result.exit_code == 0, result.output
    (summary,) = (cache / "runs").glob("preprocess-*.json")
    assert sorted(json.loads(summary.read_text())["computed"]) == ["S01", "S02"]


def test_distill_uses_the_values_given_with_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphs.distill.job as job

    seen = []

    def fake_run_distill(cfg, out, log):  # noqa: ANN001, ANN202 - the signature of graphs.distill.job.run_distill
        seen.append(cfg)
        return tmp_path

    monkeypatch.setattr(job, "run_distill", fake_run_distill)
    config = tmp_path / "distill.yaml"
    config.write_text(yaml.safe_dump(TINY_DISTILL))
    result = CliRunner().invoke(
        app, ["distill", str(config), "--set", "student.epochs=3", "--set", "teacher.source.synthetic.n_subjects=3"]
    )
    assert result.exit_code == 0, result.output
    (cfg,) = seen
    assert cfg.student.epochs == 3 and cfg.teacher.source.synthetic.n_subjects == 3


@pytest.mark.parametrize("command", ["run", "preprocess", "train", "distill"])
def test_malformed_set_exits_2_naming_the_argument(tmp_path: Path, command: str) -> None:
    config = _config(tmp_path, TINY_DISTILL if command == "distill" else TINY)
    for argument, message in (
        ("train.epochs", "--set 'train.epochs': expected KEY=VALUE"),
        ("=3", "--set '=3': the key before '=' is empty"),
        ("a..b=1", "--set 'a..b=1': key 'a..b' has an empty part"),
    ):
        result = CliRunner().invoke(app, [command, str(config), "--set", argument])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("command", "key", "allowed"),
    [("run", "source.nope", "via_files"), ("preprocess", "cache.nope", "workers"),
     ("train", "train.nope", "epochs"), ("distill", "student.nope", "epochs")],
)  # fmt: skip
def test_unknown_key_from_set_exits_2_with_the_files_message(tmp_path: Path, command: str, key: str, allowed: str) -> None:
    config = _config(tmp_path, TINY_DISTILL if command == "distill" else TINY)
    result = CliRunner().invoke(app, [command, str(config), "--set", f"{key}=1"])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # rich may wrap long lines
    assert f"{key}: unknown key; allowed keys here are" in output and allowed in output
    assert f"(from --set {key}=1)" in output
    assert not (tmp_path / "from_file").exists()


def test_help_of_each_config_command_documents_set() -> None:
    for command in ("run", "preprocess", "train", "distill"):
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "--set" in result.output and "KEY=VALUE" in result.output
