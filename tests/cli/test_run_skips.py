"""A model that cannot run on the source is skipped with a note, not an error (issue 12's rule)."""

from __future__ import annotations

import json

import pytest

from biosig.config import config_from_dict
from biosig.errors import DataError
from graphs.training.runner import run


def _config(tmp_path, models=None) -> dict:
    # 8-s stimuli: HiSTN's and DGCNN's default windows take the last 60 s of each trial.
    config = {
        "source": {"synthetic": {"n_subjects": 2, "n_trials": 6, "baseline_seconds": 6, "stimulus_seconds": 8},
                   "via_files": False},
        "features": {"peripheral": False},
        "evaluation": {"n_folds": 2, "tasks": ["binary"], "targets": ["valence"], "protocols": ["loso"]},
        "report": {"out_dir": str(tmp_path / "report")},
    }  # fmt: skip
    if models is not None:
        config["models"] = models
    return config


def test_default_deep_models_that_cannot_cut_their_windows_are_skipped_with_a_note(tmp_path):
    report = run(config_from_dict(_config(tmp_path)))
    metrics = json.loads((report / "metrics.json").read_text())
    notes = json.loads((report / "run_info.json").read_text())["notes"]
    assert list(metrics) == ["logreg"]
    (note,) = [n for n in notes if n.startswith("histn, dgcnn: skipped")]
    assert "shorter than the 60.0 s record" in note


def test_with_nothing_else_to_report_the_error_stands(tmp_path):
    with pytest.raises(DataError, match="shorter than the 60.0 s record"):
        run(config_from_dict(_config(tmp_path, models=[{"name": "histn"}])))
