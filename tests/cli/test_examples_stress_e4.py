"""``configs/stress_e4.yaml`` end to end: E4 export folders, task times from a log, stress vs rest, no EEG.

Data: stress-predict-e4 (MIT, italha-d/Stress-Predict-Dataset): the Empatica E4 exports of S01 and S02 and
``Processed_data/Time_logs.xlsx`` (one row per subject, Start/End per task, Irish time = UTC in February).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.cohort_sources import sources_from_config
from biosig.config import load_config
from tests.helpers import REPO_ROOT

CONFIG = REPO_ROOT / "configs" / "stress_e4.yaml"
E4 = "stress-predict-e4"
CONDITIONS = {
    "Stroop Test": "stress", "Interview": "stress", "Hyperventilation": "stress",
    "Baseline/Questionniare": "rest", "Relax": "rest", "Relax/Baseline": "rest",
}  # fmt: skip


def _logged_intervals(shared_data: Path, subject: str) -> list[tuple[float, float, str]]:
    """The log's kept tasks of ``subject`` as (onset s, end s, condition) on the E4 clock, cut to the recording."""
    folder = shared_data / E4 / "Raw_data" / subject
    first, rate = (folder / "EDA.csv").read_text().split()[:2]
    start = dt.datetime.fromtimestamp(float(first.split(",")[0]), tz=dt.timezone.utc)
    start_s = start.hour * 3600 + start.minute * 60 + start.second
    length = (len((folder / "EDA.csv").read_text().split()) - 2) / float(rate.split(",")[0])
    sheet = pd.read_excel(shared_data / E4 / "Processed_data" / "Time_logs.xlsx", header=None)
    row = sheet[sheet[0] == subject].index[0]
    out = []
    for col in range(4, 24, 2):  # task label in row 0 above its Start (row 1) and End columns
        label, onset_cell, end_cell = sheet.iat[0, col], sheet.iat[row, col], sheet.iat[row, col + 1]
        assert (sheet.iat[1, col], sheet.iat[1, col + 1]) == ("Start", "End")
        assert onset_cell.hour < 12 and end_cell.hour < 12  # both are morning sessions (09:22 and 09:48 starts)
        onset = onset_cell.hour * 3600 + onset_cell.minute * 60 - start_s
        end = end_cell.hour * 3600 + end_cell.minute * 60 - start_s
        if label in CONDITIONS and end > 0 and onset < length:
            out.append((max(onset, 0.0), min(end, length), CONDITIONS[label]))
    return sorted(out)


def test_e4_folders_time_log_trials_and_both_protocols(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the config's paths are relative to the repository root
    out = tmp_path / "report"
    options = [f"report.out_dir={out}", "evaluation.permutations=0"]

    # the trials each E4 folder gets are the log's intervals
    config = load_config(CONFIG, options)
    sources = sources_from_config(config, out / "data")
    assert [s.name for s in sources] == ["01", "02"]
    for source, subject in zip(sources, ["S01", "S02"]):
        session = source()
        assert session.eeg is None and session.eda is not None
        expected = _logged_intervals(shared_data, subject)
        trials = session.trials
        got = list(zip(trials["stimulus_onset"], trials["stimulus_onset"] + trials["stimulus_duration"]))
        np.testing.assert_allclose(got, [(a, b) for a, b, _ in expected])
        assert trials["condition"].tolist() == [c for _, _, c in expected]
        assert trials["condition"].value_counts().to_dict() == {"rest": 5, "stress": 3}

    result = CliRunner().invoke(app, ["run", str(CONFIG), *[a for o in options for a in ("--set", o)]])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run_info.json").read_text())
    assert info["n_subjects"] == 2
    scores = json.loads((out / "metrics.json").read_text())["logreg"]["condition"]["binary"]
    notes = info["notes"]
    for protocol in ("within_subject", "loso"):  # each protocol ran, or a note says why not
        if protocol in scores:
            assert scores[protocol]["classes"] == ["rest", "stress"]
            assert 0 <= scores[protocol]["roc_auc"] <= 1
            assert np.isfinite(scores[protocol]["f1_weighted"])
        else:
            assert any(f"{protocol} skipped" in note for note in notes), notes
    assert set(scores) == {"within_subject", "loso"}  # 2 subjects, 3 stress and 5 rest trials each: both run
