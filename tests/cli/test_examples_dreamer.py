"""``configs/dreamer.yaml`` runs from the CLI on a DREAMER.mat written in the dataset's exact structure.

DREAMER itself cannot be redistributed, so the test writes a small ``DREAMER.mat`` with
:func:`biosig.datasets.writers.write_dreamer_mat` from three subjects of the embedded
synthetic cohort (9 clips of 12 s, each after an 8-s baseline, Emotiv-14 EEG at 128 Hz, ECG
at 256 Hz, planted valence and arousal effects) and points the shipped config at it with
``--set source.root=...``.
"""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from biosig.cli import app
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.datasets.writers import write_dreamer_mat
from tests.helpers import REPO_ROOT

SUBJECTS = ("S01", "S02", "S03")


def test_dreamer_config_valence_arousal_both_protocols(tmp_path, monkeypatch):
    synthetic = SyntheticConfig(n_subjects=len(SUBJECTS), n_trials=9, baseline_seconds=8, stimulus_seconds=12, seed=0)
    mat = write_dreamer_mat((make_session(k, synthetic) for k in range(len(SUBJECTS))), tmp_path / "DREAMER.mat")
    out = tmp_path / "report"
    monkeypatch.chdir(REPO_ROOT)
    result = CliRunner().invoke(
        app, ["run", "configs/dreamer.yaml", "--set", f"source.root={mat}", "--set", f"report.out_dir={out}"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    for target in ("valence", "arousal"):
        scores = metrics["logreg"][target]["binary"]
        assert set(scores) == {"within_subject", "loso"}, target
        for protocol, s in scores.items():
            assert set(s["per_subject"]) == set(SUBJECTS), (target, protocol)
            assert np.isfinite(s["f1_weighted"]) and 0.0 <= s["roc_auc"] <= 1.0, (target, protocol)
    info = json.loads((out / "run_info.json").read_text())
    # 12-s clips, 4-s windows every 2 s: 5 windows per clip; the baselines only normalise.
    assert info["n_subjects"] == 3 and info["n_windows"] == 3 * 9 * 5
    assert info["baseline_mode"] == "feature_subtract"
