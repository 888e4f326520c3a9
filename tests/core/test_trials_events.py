"""Event-locked trials (``trials.from: events``) on real recordings: a photosensor and XDF markers.

Files (../shared/data, see its README): NeuroKit2's ``bio_eventrelated_100hz.csv``
(MIT; 4 emotional images, Negative/Neutral/Neutral/Negative per NeuroKit2's
``nk.data`` documentation, photosensor drops at samples 1023, 4957, 9223,
12983) and the Kirton BCI lab's P300 XDF from bci-essentials-python (MPL-2.0).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.errors import DataError
from biosig.io import read_session
from biosig.trials import apply_trials

NEUROKIT = "neurokit2/bio_eventrelated_100hz.csv"
P300 = "bci-essentials-xdf/sub-P001_ses-S001_task-P300Checkboard_run-001_eeg.xdf"
TYPES = {"ECG": "ecg", "EDA": "eda", "Photosensor": "misc", "RSP": "resp"}


def _photosensor(tmax: float = 3.0, baseline: list[float] | None = None) -> TrialsConfig:
    return TrialsConfig.model_validate(
        {
            "from": "events",
            "threshold": {
                "channel": "Photosensor",
                "threshold": 2.5,
                "edge": "falling",
                "min_gap": 1.0,
                "name": "image",
            },
            "event_id": {"picture": "image"},
            "tmin": 0.0,
            "tmax": tmax,
            "baseline": baseline,
        }
    )


def test_photosensor_falling_edges_give_the_four_documented_onsets(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / NEUROKIT
    session = read_session(path, sfreq=100, channel_types=TYPES)
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"subject": "x", "trial": [1, 2, 3, 4], "condition": ["Negative", "Neutral", "Neutral", "Negative"]}
    ).to_csv(labels, index=False)
    ratings = {"path": labels, "subject_column": "subject", "trial_column": "trial", "columns": ["condition"]}
    out = apply_trials(
        session, _photosensor(baseline=[-1.0, 0.0]), LabelsConfig(ratings=ratings), {"subject": "x"}, path
    )
    samples = out.trials["stimulus_onset"].to_numpy() * 100
    np.testing.assert_allclose(samples, [1023, 4957, 9223, 12983], atol=1.0)
    np.testing.assert_allclose(out.trials["stimulus_duration"], 3.0)
    np.testing.assert_allclose(out.trials["baseline_onset"], out.trials["stimulus_onset"] - 1.0)
    np.testing.assert_allclose(out.trials["baseline_duration"], 1.0)
    assert out.trials["condition"].tolist() == ["Negative", "Neutral", "Neutral", "Negative"]
    assert out.trials["valence"].isna().all()
    assert session.trials.empty  # the input session is left as it was


def test_photosensor_condition_is_the_event_id_key_and_no_baseline_means_zero(shared_data: Path) -> None:
    path = shared_data / NEUROKIT
    session = read_session(path, sfreq=100, channel_types=TYPES)
    out = apply_trials(session, _photosensor(), LabelsConfig(), {}, path)
    assert out.trials["condition"].tolist() == ["picture"] * 4
    assert (out.trials["baseline_duration"] == 0).all()
    np.testing.assert_allclose(out.trials["baseline_onset"], out.trials["stimulus_onset"])


def test_windows_outside_the_recording_are_dropped_with_a_warning(shared_data: Path) -> None:
    path = shared_data / NEUROKIT
    session = read_session(path, sfreq=100, channel_types=TYPES)
    # the last image is at 129.8 s of 150 s: its 25-s window leaves the recording
    out = apply_trials(session, _photosensor(tmax=25.0), LabelsConfig(), {}, path)
    assert out.trials["trial"].tolist() == [1, 2, 3]
    assert any("1 events dropped" in w and "trial 4" in w for w in out.info["warnings"])


def test_xdf_markers_by_regex_are_the_trials(shared_data: Path) -> None:
    import pyxdf

    path = shared_data / P300
    session = read_session(path)
    streams, _ = pyxdf.load_xdf(str(path))
    eeg = next(s for s in streams if s["info"]["type"][0] == "EEG")
    pattern = re.compile(r"p300,m,.*")
    times = sorted(
        t
        for s in streams
        if s["info"]["type"][0] != "EEG"
        for t, value in zip(s["time_stamps"], s["time_series"])
        if pattern.fullmatch(str(value[0]))
    )
    trials = TrialsConfig.model_validate(
        {"from": "events", "event_id": {"flash": pattern.pattern}, "regex": True, "tmin": 0.0, "tmax": 0.5}
    )
    out = apply_trials(session, trials, LabelsConfig(), {}, path)
    assert len(times) == 39
    assert len(out.trials) == len(times)
    expected = np.asarray(times) - eeg["time_stamps"][0]
    np.testing.assert_allclose(out.trials["stimulus_onset"], expected, atol=1 / 256)
    assert set(out.trials["condition"]) == {"flash"}


def test_event_id_matching_nothing_names_file_key_and_descriptions(shared_data: Path) -> None:
    path = shared_data / P300
    session = read_session(path)
    trials = TrialsConfig.model_validate(
        {"from": "events", "event_id": {"target": "p300,t,.*"}, "regex": True, "tmin": 0.0, "tmax": 0.5}
    )
    with pytest.raises(DataError) as err:
        apply_trials(session, trials, LabelsConfig(), {}, path)
    message = str(err.value)
    assert str(path) in message and "'target'" in message and "'Trial Started'" in message
    assert "and 6 more" in message  # at most 10 descriptions listed


def test_missing_threshold_channel_names_the_channels(shared_data: Path) -> None:
    path = shared_data / NEUROKIT
    session = read_session(path, sfreq=100, channel_types=TYPES)
    trials = TrialsConfig.model_validate(
        {"from": "events", "threshold": {"channel": "Light", "threshold": 1.0}, "tmax": 1.0}
    )
    with pytest.raises(DataError, match=r"no channel 'Light'.*Photosensor"):
        apply_trials(session, trials, LabelsConfig(), {}, path)


def test_marker_column_of_a_csv_gives_event_locked_trials(tmp_path, shared_data):
    """A CSV whose marker column is declared a stim channel: each step to a code of event_id is a trial.

    The real ECG/EDA of NeuroKit2's event-related recording, with a marker column written beside them
    (code 1 at the documented photosensor onsets 1023 and 9223, code 2 at 4957 and 12983).
    """
    table = pd.read_csv(shared_data / "neurokit2" / "bio_eventrelated_100hz.csv")[["ECG", "EDA"]]
    marker = np.zeros(len(table), int)
    onsets = {1023: 1, 4957: 2, 9223: 1, 12983: 2}
    for sample, code in onsets.items():
        marker[sample : sample + 50] = code
    path = tmp_path / "with_markers.csv"
    table.assign(Marker=marker).to_csv(path, index=False)
    session = read_session(path, sfreq=100, channel_types={"Marker": "stim"}, units={"ECG": "mV", "EDA": "uS"})
    trials = TrialsConfig.model_validate(
        {"from": "events", "stim_channel": "Marker", "event_id": {"negative": 1, "neutral": 2}, "tmin": 0, "tmax": 4}
    )
    out = apply_trials(session, trials, LabelsConfig(), {}, path).trials
    np.testing.assert_allclose(out["stimulus_onset"], np.array(sorted(onsets)) / 100)
    assert out["condition"].tolist() == ["negative", "neutral", "negative", "neutral"]
    assert (out["stimulus_duration"] == 4).all()
    missing = trials.model_copy(update={"event_id": {"negative": 1, "absent": 7}})
    with pytest.raises(DataError, match=r"'absent' \(code 7\) occurs nowhere on stim channel 'Marker'"):
        apply_trials(session, missing, LabelsConfig(), {}, path)
