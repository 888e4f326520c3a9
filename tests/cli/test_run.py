"""The main job end to end on small synthetic cohorts, and the CLI around it."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import REPO_ROOT
from biosig.cli import app
from biosig.config import config_from_dict
from graphs.training.runner import run

ROOT = REPO_ROOT

SMALL = {
    "source": {"synthetic": {"n_subjects": 3, "n_trials": 6, "baseline_seconds": 12, "stimulus_seconds": 16}},
    "models": [{"name": "logreg"}],
    "evaluation": {"n_folds": 3},
}


def _small(tmp_path: Path, **overrides) -> dict:
    cfg = json.loads(json.dumps(SMALL))
    cfg["report"] = {"out_dir": str(tmp_path / "report")}
    for key, value in overrides.items():
        cfg[key] = {**cfg.get(key, {}), **value}
    return cfg


def test_report_folder_is_complete_and_readable(tmp_path):
    out = run(config_from_dict(_small(tmp_path)))
    metrics = json.loads((out / "metrics.json").read_text())
    for target in ("valence", "arousal"):
        for task in ("binary", "five_class"):
            for protocol in ("within_subject", "loso"):
                scores = metrics["logreg"][target][task][protocol]
                assert 0.0 <= scores["f1_weighted"] <= 1.0
                assert set(scores["per_subject"]) == {"S01", "S02", "S03"}
    info = json.loads((out / "run_info.json").read_text())
    assert info["n_subjects"] == 3 and info["n_windows"] == 3 * 6 * 7
    report = (out / "report.md").read_text()
    for png in ("topomap_contrast.png", "confusion_loso.png", "per_subject_binary.png"):
        assert (out / png).stat().st_size > 5000
        assert f"]({png})" in report
    # The cohort went through EDF + CSV files and was read back from them.
    assert sorted(p.name for p in (out / "data").glob("S01_*")) == [
        "S01_ecg.csv", "S01_eda.csv", "S01_eeg.edf", "S01_trials.csv", "S01_written.json"
    ]
    assert not list(out.glob(".*.tmp")), "no temporary file is left behind"


def test_same_config_gives_the_same_numbers(tmp_path):
    a = run(config_from_dict(_small(tmp_path / "a", source={"via_files": False})))
    b = run(config_from_dict(_small(tmp_path / "b", source={"via_files": False})))
    assert (a / "metrics.json").read_text() == (b / "metrics.json").read_text()
    assert (a / "predictions.csv").read_text() == (b / "predictions.csv").read_text()


def test_designed_effects_are_recovered_and_subject_independent_is_harder(tmp_path):
    cfg = {
        "source": {"synthetic": {"n_subjects": 5, "stimulus_seconds": 40}, "via_files": False},
        "models": [{"name": "logreg"}],
        "evaluation": {"tasks": ["binary"]},
        "report": {"out_dir": str(tmp_path / "report")},
    }
    metrics = json.loads((run(config_from_dict(cfg)) / "metrics.json").read_text())["logreg"]
    for target in ("valence", "arousal"):
        sd = metrics[target]["binary"]["within_subject"]
        loso = metrics[target]["binary"]["loso"]
        assert sd["f1_weighted"] > 0.7, (target, sd["f1_weighted"])
        assert sd["f1_weighted"] > sd["chance_f1_weighted"] + 0.15
        assert loso["f1_weighted"] < sd["f1_weighted"] - 0.05, (target, loso["f1_weighted"], sd["f1_weighted"])


def test_cli_reports_a_bad_config_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("windows: {length: 4, hopp: 2}\n")
    result = CliRunner().invoke(app, ["run", str(bad)])
    assert result.exit_code == 2
    assert "windows.hopp" in result.output and "hop" in result.output
    assert "Traceback" not in result.output


def test_cli_reports_bad_data_without_traceback(tmp_path):
    cfg = tmp_path / "short.yaml"
    cfg.write_text(
        "source: {synthetic: {n_subjects: 2, n_trials: 5, stimulus_seconds: 6}, via_files: false}\n"
        "windows: {length: 8, hop: 2}\n"
        f"report: {{out_dir: {tmp_path / 'r'}}}\n"
    )
    result = CliRunner().invoke(app, ["run", str(cfg)])
    assert result.exit_code == 2
    assert "subject S01: trial 1 stimulus segment lasts 6.00 s, shorter than one 8.0 s window" in result.output


def test_console_entry_point_is_installed():
    exe = Path(sys.executable).with_name("biosig")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "run" in result.stdout


TINY_DEEP = {
    "source": {"synthetic": {"n_subjects": 2, "n_trials": 6, "baseline_seconds": 12, "stimulus_seconds": 20}, "via_files": False},
    "models": [
        {"name": "logreg", "hparams": {"C": 0.1}},
        {"name": "dgcnn", "windows": {"length": 1.0, "hop": 1.0, "record_seconds": 20, "baseline_seconds": 10}},
    ],
    "evaluation": {"targets": ["valence"], "tasks": ["binary"], "protocols": ["within_subject", "histn_blocks"],
                   "n_folds": 3, "max_folds": 1},
    "train": {"epochs": 1, "batch_size": 32, "lr_steps": {}, "threads": 1},
}


def _layout(metrics: dict) -> set[tuple[str, str, str, str]]:
    return {(m, t, k, p) for m, ts in metrics.items() for t, ks in ts.items() for k, ps in ks.items() for p in ps}


def test_run_and_train_evaluate_logreg_and_a_deep_model_into_one_metrics_layout(tmp_path):
    import yaml

    path = tmp_path / "both.yaml"
    path.write_text(yaml.safe_dump(TINY_DEEP))
    layouts = {}
    for command in ("run", "train"):
        out = tmp_path / command
        result = CliRunner().invoke(app, [command, str(path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        metrics = json.loads((out / "metrics.json").read_text())
        layouts[command] = _layout(metrics)
        assert metrics["dgcnn"]["valence"]["binary"]["within_subject"]["parameters"] > 0
        assert 0.0 <= metrics["logreg"]["valence"]["binary"]["within_subject"]["f1_weighted"] <= 1.0
        notes = json.loads((out / "run_info.json").read_text())["notes"]
        assert any("histn_blocks" in note and note.startswith("logreg") for note in notes)
    # histn_blocks is skipped for the feature baseline, run for the deep model
    assert layouts["run"] == layouts["train"] == {
        ("logreg", "valence", "binary", "within_subject"),
        ("dgcnn", "valence", "binary", "within_subject"),
        ("dgcnn", "valence", "binary", "histn_blocks"),
    }


def test_several_seeds_give_the_mean_and_each_seed(tmp_path):
    one = json.loads((run(config_from_dict(_small(tmp_path / "one", source={"via_files": False})))
                      / "metrics.json").read_text())["logreg"]
    cfg = _small(tmp_path / "two", source={"via_files": False}, evaluation={"seeds": [0, 1]})
    two = json.loads((run(config_from_dict(cfg)) / "metrics.json").read_text())["logreg"]
    for protocol in ("within_subject", "loso"):
        a, b = one["valence"]["binary"][protocol], two["valence"]["binary"][protocol]
        # The statistics (over seeds too) belong to the combined entry, not to each seed's scores.
        assert b["per_seed"]["0"] == {k: v for k, v in a.items() if k != "statistics"}
        assert len(b["statistics"]["seeds"]["values"]) == 2
        mean = (b["per_seed"]["0"]["f1_weighted"] + b["per_seed"]["1"]["f1_weighted"]) / 2
        assert abs(b["f1_weighted"] - mean) < 1e-12
