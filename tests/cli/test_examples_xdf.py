"""``configs/xdf_markers.yaml`` end to end: trials from an XDF marker stream by regular expression, EEG features.

Data: bci-essentials-xdf (MPL-2.0, kirtonBCIlab/bci-essentials-python):
``sub-P001_ses-S001_task-P300Checkboard_run-001_eeg.xdf``, 16-channel g.USBamp EEG at 256 Hz and the Unity marker
stream ``UnityMarkerStream`` (one ``p300,m,<n objects>,<target>,<flashed objects...>`` marker per flash).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pyxdf
from typer.testing import CliRunner

from biosig.cli import app
from biosig.cohort import run_cohort
from biosig.config import load_config
from tests.helpers import REPO_ROOT

CONFIG = REPO_ROOT / "configs" / "xdf_markers.yaml"
XDF = "bci-essentials-xdf/sub-P001_ses-S001_task-P300Checkboard_run-001_eeg.xdf"


def _flashes(shared_data: Path) -> tuple[np.ndarray, list[str]]:
    """Every flash marker's time (s after the EEG's first sample, pyxdf's clock) and whether it holds the target."""
    streams, _ = pyxdf.load_xdf(str(shared_data / XDF))
    (eeg,) = [s for s in streams if s["info"]["name"][0] == "g.USBamp-1"]
    (markers,) = [s for s in streams if s["info"]["name"][0] == "UnityMarkerStream"]
    times, conditions = [], []
    for stamp, (text,) in zip(markers["time_stamps"], markers["time_series"]):
        fields = text.split(",")
        if fields[:2] == ["p300", "m"]:
            times.append(stamp - eeg["time_stamps"][0])
            conditions.append("target" if fields[3] in fields[4:] else "nontarget")
    return np.asarray(times), conditions


def test_marker_regex_trials_align_with_the_markers(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the config's paths are relative to the repository root
    out, cache = tmp_path / "report", tmp_path / "cache"
    options = [f"report.out_dir={out}", f"cache.dir={cache}", "evaluation.permutations=0"]
    result = CliRunner().invoke(app, ["run", str(CONFIG), *[a for o in options for a in ("--set", o)]])
    assert result.exit_code == 0, result.output

    cohort = run_cohort(load_config(CONFIG, options), out)
    assert cohort.cached == ["P001"]
    features = cohort.features
    times, conditions = _flashes(shared_data)
    assert len(times) == 39 and conditions.count("target") == 6
    # one trial (one 1-s window) per matching marker, starting at the marker on the session clock
    assert features["trial"].values.tolist() == list(range(1, len(times) + 1))
    assert features["window_in_trial"].values.tolist() == [0] * len(times)
    np.testing.assert_allclose(features["t_start"].values, times, atol=1 / 256 / 4)  # within a quarter sample
    assert features["condition"].values.tolist() == conditions
    assert features.sizes["channel"] == 16 and np.isfinite(features["de"].values).all()

    scores = json.loads((out / "metrics.json").read_text())["logreg"]["condition"]["binary"]
    notes = json.loads((out / "run_info.json").read_text())["notes"]
    assert scores["within_subject"]["classes"] == ["nontarget", "target"]  # 3 folds, 6 target flashes
    assert 0 <= scores["within_subject"]["roc_auc"] <= 1
    assert "loso" not in scores
    assert any("loso skipped: leave one subject out needs at least 2 subjects" in note for note in notes), notes
