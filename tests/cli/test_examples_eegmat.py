"""``configs/eegmat.yaml`` and its drift control ``configs/eegmat_drift.yaml`` run from the CLI on real EDFs.

Real recordings: PhysioNet eegmat, "EEG During Mental Arithmetic Tasks" (Zyma et al. 2019,
ODC-By 1.0), Subject00 and Subject01 under ``../shared/data/physionet-eegmat``: ``_1`` = 182 s of
rest, ``_2`` = 62 s of serial subtraction; 19 EEG channels, A2-A1 and ECG at 500 Hz. The
configs run as shipped, from the repository root (their paths are relative to it), as the
README's commands do; only the report folder is moved with ``--set``. The tests assert that
the pipeline does the right thing (blocks, conditions, protocols, roc_auc), not the scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from tests.helpers import REPO_ROOT

#: Windows per 20-s block (4-s windows every 2 s).
WINDOWS_PER_BLOCK = 9
#: Features per window: differential entropy of 19 channels x 5 bands, F4-F3 asymmetry, 4 ECG features.
N_FEATURES = 19 * 5 + 1 + 4


def _run(config: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(REPO_ROOT)
    result = CliRunner().invoke(app, ["run", config, "--set", f"report.out_dir={out}"])
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text())


def _assert_protocols_ran(metrics: dict, out: Path, classes: list[str]) -> None:
    scores = metrics["logreg"]["condition"]["binary"]
    assert set(scores) == {"within_subject", "loso"}
    for protocol, s in scores.items():
        assert s["classes"] == classes, protocol
        assert 0.0 <= s["roc_auc"] <= 1.0, protocol
        assert set(s["roc_auc_per_subject"]) == {"00", "01"}, protocol
        assert np.isfinite(s["f1_weighted"]) and 0.0 <= s["chance_f1_weighted"] <= 1.0, protocol
    predictions = pd.read_csv(out / "predictions.csv", dtype={"subject": str})
    within = predictions[predictions["protocol"] == "within_subject"]
    # Whole blocks are held out: every window of a block is tested in the same fold.
    assert (within.groupby(["subject", "trial"])["fold"].nunique() == 1).all()
    loso = predictions[predictions["protocol"] == "loso"]
    assert (loso["fold"].astype(str).str.zfill(2) == loso["subject"]).all()  # each subject tested by the others' model


def test_rest_vs_arithmetic_blocks_both_protocols(tmp_path, shared_data, monkeypatch):
    out = tmp_path / "eegmat"
    metrics = _run("configs/eegmat.yaml", out, monkeypatch)
    _assert_protocols_ran(metrics, out, ["arithmetic", "rest"])
    info = json.loads((out / "run_info.json").read_text())
    # 182 s of rest -> 9 blocks of 20 s, 62 s of arithmetic -> 3 blocks (the 2-s tails are in no block).
    assert info["n_subjects"] == 2 and info["n_windows"] == 2 * (9 + 3) * WINDOWS_PER_BLOCK
    assert info["n_features"] == N_FEATURES
    within = metrics["logreg"]["condition"]["binary"]["within_subject"]
    assert within["confusion_matrix"]["matrix"][0][0] + within["confusion_matrix"]["matrix"][0][1] == 2 * 3 * 9


def test_drift_control_first_vs_last_minute_of_rest(tmp_path, shared_data, monkeypatch):
    out = tmp_path / "drift"
    metrics = _run("configs/eegmat_drift.yaml", out, monkeypatch)
    _assert_protocols_ran(metrics, out, ["first_minute", "last_minute"])
    info = json.loads((out / "run_info.json").read_text())
    assert info["n_subjects"] == 2 and info["n_windows"] == 2 * (3 + 3) * WINDOWS_PER_BLOCK
    predictions = pd.read_csv(out / "predictions.csv", dtype={"subject": str})
    starts = predictions.groupby(["subject", "trial"])["t_start"].min()
    # The table's blocks (configs/eegmat_drift_blocks.csv): 0, 20, 40 s and 122, 142, 162 s of the rest file.
    assert sorted(set(starts.round(6))) == [0.0, 20.0, 40.0, 122.0, 142.0, 162.0]
