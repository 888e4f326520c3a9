"""`biosig distill CONFIG` end to end on a tiny synthetic cohort and face set, and its errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from biosig.cli import app
from graphs.distill.config import load_distill_config
from graphs.distill.prototypes import load_grid
from graphs.distill.teacher import teacher_config_hash

TINY = {
    "name": "tiny",
    "threads": 1,
    "teacher": {
        "source": {
            "kind": "synthetic",
            "synthetic": {"n_subjects": 2, "n_trials": 4, "stimulus_seconds": 8, "baseline_seconds": 8, "seed": 0},
        },
        "windows": {"length": 2.0, "hop": 2.0},
        "widths": [4, 8],
        "epochs": 1,
    },
    "faces": {"kind": "synthetic", "n_per_class": 5},
    "cross": {"kind": "synthetic", "n_per_class": 3, "seed": 5, "classes": ["happiness", "sadness"]},
    "student": {"epochs": 1, "widths": [4, 8], "batch_size": 16},
    "variants": ["ce", "ce+kd+proto+dgeo"],
    "ablation": {"n_seeds": 2},
}


@pytest.fixture(autouse=True)
def _restore_torch_threads() -> Iterator[None]:
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _write(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_distill_end_to_end(tmp_path: Path) -> None:
    config = _write(tmp_path / "tiny.yaml", TINY)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["distill", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "report.md",
        "metrics.json",
        "grid.png",
        "ablation.png",
        "curves.png",
        "confusion.png",
        "faces.png",
        "teacher.pt",
        "student.pt",
        "student.onnx",
        "prototypes_synthetic_5x5_v1.npz",
        "prototypes_synthetic_5x5_v1.json",
    ):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["variants"]) == ["ce", "ce+kd+proto+dgeo"]
    ablation = metrics["ablation"]
    assert ablation["seeds"] == [0, 1] and ablation["controls"] == ["random_teacher", "shuffled_cells", "circumplex"]
    assert list(ablation["conditions"]) == [
        "ce",
        "ce+kd+proto+dgeo",
        "ce+kd+proto+dgeo (random_teacher)",
        "ce+kd+proto+dgeo (shuffled_cells)",
        "ce+kd+proto+dgeo (circumplex)",
    ]
    assert all(len(rows["seeds"]) == 2 for rows in ablation["conditions"].values())
    assert ablation["conditions"]["ce"]["dgeo_share"] == 0.0  # no D-Geo term, no share
    # the EEG grid against the three controls (no ce+kd variant here, so no brain-free comparison)
    assert [(c["metric"], c["unit"]) for c in ablation["comparisons"]] == [("test macro_f1", "seeds")] * 3 + [
        ("cross macro_f1", "seeds")
    ] * 3
    assert metrics["face_expression"]["model"] == "independent" and metrics["face_expression"]["seed"] == 11
    for res in metrics["variants"].values():
        for key in ("accuracy", "macro_f1", "balanced_accuracy", "present_macro_f1"):
            assert 0.0 <= res["test"][key] <= 1.0 and 0.0 <= res["cross"][key] <= 1.0
        assert set(res["grid_agreement"]) == {"cell_accuracy", "within_one", "valence_mae_levels", "arousal_mae_levels"}
    # the cross set holds 2 of 8 classes: present-only macro-F1 averages over those 2 only
    assert metrics["cross"]["present"] == ["happiness", "sadness"]
    assert metrics["onnx"]["max_abs_diff"] < 1e-4
    # the saved grid loads, validated, and is bound to the teacher's settings
    cfg = load_distill_config(config)
    grid = load_grid(
        out / "prototypes_synthetic_5x5_v1.npz", embed_dim=8, teacher_config_hash=teacher_config_hash(cfg.teacher)
    )
    assert grid.counts.sum() == metrics["teacher"]["heldout"]["n_windows"] > 0
    assert np.array_equal(grid.filled, np.array(metrics["grid"]["filled"]))
    report = (out / "report.md").read_text()
    assert "| ce+kd+proto+dgeo |" in report and "Cross-dataset test" in report
    assert "| ce+kd+proto+dgeo (circumplex) |" in report and "**Result.**" in report
    assert "Independent expressions" in report and "over seeds" in report

    # reuse the saved grid: the teacher is skipped
    again = _write(
        tmp_path / "again.yaml",
        {
            **TINY,
            "prototypes": {"path": str(out / "prototypes_synthetic_5x5_v1.json")},
            "variants": ["ce+kd+proto"],
            "ablation": {"n_seeds": 1, "control_variant": "ce+kd+proto"},
            "cross": None,
            "report": {"onnx": False},
        },
    )
    result = CliRunner().invoke(app, ["distill", str(again), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    reused = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert reused["teacher"] is None and reused["grid"]["counts"] == metrics["grid"]["counts"]
    assert reused["ablation"]["controls"] == ["shuffled_cells", "circumplex"]  # no teacher to re-initialise


def test_distill_errors_are_reported_without_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.yaml", {**TINY, "student": {"epoch": 3}})
    result = CliRunner().invoke(app, ["distill", str(bad)])
    assert result.exit_code == 2
    assert "student.epoch: unknown key" in result.output and "Traceback" not in result.output
    missing_grid = _write(tmp_path / "grid.yaml", {**TINY, "prototypes": {"path": str(tmp_path / "none.npz")}})
    result = CliRunner().invoke(app, ["distill", str(missing_grid), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "none.npz does not exist" in result.output
