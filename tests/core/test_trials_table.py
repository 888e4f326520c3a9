"""Trials from a label table (``trials.from: table``) and ratings (``labels.ratings``).

Real case: stress-predict-e4 (MIT, italha-d/Stress-Predict-Dataset) S01 and S02
E4 exports with ``Processed_data/Time_logs.xlsx``, one row per subject with a
Start and an End column per task, times of day in Irish time (= UTC in
February) without AM/PM.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.errors import ConfigError, DataError
from biosig.io import read_session
from biosig.session import Session, empty_trials
from biosig.trials import apply_trials

E4 = "stress-predict-e4"
LOG = f"{E4}/Processed_data/Time_logs.xlsx"


def _log_trials(shared_data: Path, **extra: object) -> TrialsConfig:
    table = {
        "path": shared_data / LOG,
        "layout": "subject_rows",
        "subject_column": "S. ID.",
        "onset_column": "Start",
        "end_column": "End",
        "duration_column": None,
        "time_of_day": True,
        **extra,
    }
    return TrialsConfig.model_validate({"from": "table", "table": table})


@pytest.mark.parametrize("subject", ["S01", "S02"])
def test_time_log_intervals_equal_the_logged_times(shared_data: Path, subject: str) -> None:
    folder = shared_data / E4 / "Raw_data" / subject
    session = read_session(folder)
    out = apply_trials(session, _log_trials(shared_data), LabelsConfig(), {}, folder)
    # expected by hand: the sheet's cells minus the recording's start (EDA.csv row 1, unix s, UTC)
    start = dt.datetime.fromtimestamp(float((folder / "EDA.csv").read_text().split()[0]), tz=dt.timezone.utc)
    start_s = start.hour * 3600 + start.minute * 60 + start.second
    length = min(raw.n_times / raw.info["sfreq"] for raw in session.modalities().values())
    sheet = pd.read_excel(shared_data / LOG, header=None)
    row = sheet[sheet[0] == subject].index[0]
    expected = []
    for col in range(4, 24, 2):  # task label in row 0 above its Start (row 1) and End columns
        onset_cell, end_cell = sheet.iat[row, col], sheet.iat[row, col + 1]
        assert sheet.iat[1, col] == "Start" and sheet.iat[1, col + 1] == "End"
        assert onset_cell.hour < 12 and end_cell.hour < 12  # S01 and S02 are morning sessions
        onset = onset_cell.hour * 3600 + onset_cell.minute * 60 - start_s
        end = end_cell.hour * 3600 + end_cell.minute * 60 - start_s
        if end > 0 and onset < length:
            expected.append((max(onset, 0.0), min(end, length), sheet.iat[0, col]))
    expected.sort()
    got = list(zip(out.trials["stimulus_onset"], out.trials["stimulus_onset"] + out.trials["stimulus_duration"]))
    np.testing.assert_allclose(got, [(a, b) for a, b, _ in expected])
    assert out.trials["condition"].tolist() == [label for _, _, label in expected]
    if subject == "S01":  # 09:27:41 start: consent (09:22-09:27) is before it, Stroop starts 79 s in
        assert start_s == 9 * 3600 + 27 * 60 + 41
        assert out.trials.iloc[0][["stimulus_onset", "stimulus_duration", "condition"]].tolist() == [
            79.0, 300.0, "Stroop Test"
        ]
        assert any("'Consent'" in w and "left out" in w for w in out.info["warnings"])


def test_time_log_labels_kept_and_mapped(shared_data: Path) -> None:
    folder = shared_data / E4 / "Raw_data" / "S02"
    keep = ["Stroop Test", "Interview", "Hyperventilation", "Relax"]
    trials = _log_trials(shared_data, keep_labels=keep)
    stress = {"Stroop Test": "stress", "Interview": "stress", "Hyperventilation": "stress"}
    labels = LabelsConfig(map={**stress, "Relax": "rest"})
    out = apply_trials(read_session(folder), trials, labels, {"subject": "02"}, folder)
    assert out.trials["condition"].tolist() == ["stress", "rest", "stress", "rest", "stress", "rest"]
    assert any("not in keep_labels" in w for w in out.info["warnings"])
    with pytest.raises(ConfigError, match=r"labels.map.*'Relax'"):
        apply_trials(read_session(folder), trials, LabelsConfig(map={"Stroop Test": "s"}), {}, folder)


def _noon_session(start: dt.datetime, seconds: int) -> Session:
    raw = mne.io.RawArray(np.zeros((1, seconds)), mne.create_info(["ECG"], 1.0, "ecg"), verbose="error")
    raw.set_meas_date(start)
    return Session(subject="S08", eeg=None, trials=empty_trials(), ecg=raw)


def test_afternoon_times_without_am_pm_follow_the_recording_start(tmp_path: Path) -> None:
    log = tmp_path / "log.tsv"
    pd.DataFrame(
        {
            "subject": ["S08", "S08", "S09"],
            "start": ["12:43", "12:55", "09:00"],
            "end": ["12:48", "01:05", "09:10"],
            "label": ["relax", "questionnaire", "relax"],
        }
    ).to_csv(log, sep="\t", index=False)
    session = _noon_session(dt.datetime(2022, 2, 8, 12, 10, tzinfo=dt.timezone.utc), 3600)
    trials = TrialsConfig.model_validate(
        {"from": "table", "table": {"path": log, "onset_column": "start", "end_column": "end", "time_of_day": True}}
    )
    out = apply_trials(session, trials, LabelsConfig(), {"subject": "8"}, log)
    assert out.trials["stimulus_onset"].tolist() == [33 * 60.0, 45 * 60.0]
    assert out.trials["stimulus_duration"].tolist() == [300.0, 600.0]  # 12:55 to 01:05 is 10 min over noon


def test_time_log_cell_that_is_no_time_is_named(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    pd.DataFrame({"subject": ["S08"], "start": ["about ten"], "end": ["12:48"], "label": ["relax"]}).to_csv(
        log, index=False
    )
    session = _noon_session(dt.datetime(2022, 2, 8, 12, 10, tzinfo=dt.timezone.utc), 3600)
    trials = TrialsConfig.model_validate(
        {"from": "table", "table": {"path": log, "onset_column": "start", "end_column": "end", "time_of_day": True}}
    )
    with pytest.raises(DataError, match=r"log.csv.*'relax' is 'about ten', not a time of day \(HH:MM\[:SS\]\)"):
        apply_trials(session, trials, LabelsConfig(), {"subject": "8"}, log)


def test_seconds_table_rows_and_missing_subject(tmp_path: Path) -> None:
    table = tmp_path / "trials.csv"
    pd.DataFrame(
        {"subject": ["01", "01", "02"], "onset": [10, 100, 5], "duration": [30, 30, 5], "label": ["a", "b", "a"]}
    ).to_csv(table, index=False)
    session = _noon_session(dt.datetime(2022, 2, 8, 9, 0, tzinfo=dt.timezone.utc), 600)
    session.subject = "S1"
    trials = TrialsConfig.model_validate({"from": "table", "table": {"path": table}})
    out = apply_trials(session, trials, LabelsConfig(), {}, table)  # "S1" and "01": same number
    assert out.trials[["stimulus_onset", "stimulus_duration", "condition"]].values.tolist() == [
        [10.0, 30.0, "a"], [100.0, 30.0, "b"]
    ]
    with pytest.raises(DataError, match=r"no rows for subject 07.*column 'subject'.*\['01', '02'\]"):
        apply_trials(session, trials, LabelsConfig(), {"subject": "07"}, table)


def test_ratings_merged_and_missing_trials_named(tmp_path: Path) -> None:
    table = tmp_path / "trials.csv"
    pd.DataFrame(
        {"subject": ["01", "01", "02", "02", "03"], "onset": [10, 100] * 2 + [1], "duration": 30, "label": "a"}
    ).to_csv(table, index=False)
    ratings = tmp_path / "ratings.xlsx"
    pd.DataFrame(
        {"subject": ["01", "01", "02"], "trial": [1, 2, 1], "valence": [3, 4, 5], "stress": [0.5, "", 1]}
    ).to_excel(ratings, index=False)
    session = _noon_session(dt.datetime(2022, 2, 8, 9, 0, tzinfo=dt.timezone.utc), 600)
    trials = TrialsConfig.model_validate({"from": "table", "table": {"path": table}})
    labels = LabelsConfig.model_validate({"ratings": {"path": ratings, "columns": ["valence", "stress"]}})
    out = apply_trials(session, trials, labels, {"subject": "01"}, table)
    assert out.trials["valence"].tolist() == [3.0, 4.0]
    assert out.trials["stress"].iloc[0] == 0.5 and np.isnan(out.trials["stress"].iloc[1])
    with pytest.raises(DataError, match=r"subject 02.*no rows for trials \[2\]"):
        apply_trials(session, trials, labels, {"subject": "02"}, table)
    with pytest.raises(DataError, match=r"no rows for subject 03"):
        apply_trials(session, trials, labels, {"subject": "03"}, table)
