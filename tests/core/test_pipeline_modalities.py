"""Any montage, any modality mix: sessions without EEG, montages without the asymmetry pairs,
cohorts with different channel sets, label columns as window coordinates, NaN features counted."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from biosig.cohort import CallableSource, process_cohort
from biosig.cohort_merge import merge_results
from biosig.cohort_summary import results_account
from biosig.config import config_from_dict
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError, DataError
from biosig.io import read_session
from biosig.pipeline import cohort_features, session_features
from biosig.session import TRIAL_COLUMNS, Session

SYNTH = {"n_subjects": 3, "n_trials": 2, "baseline_seconds": 8, "stimulus_seconds": 10}
EEG_ONLY = {"source": {"synthetic": SYNTH, "via_files": False}, "features": {"peripheral": False}}


def _trials(n: int, seconds: float, start: float = 0.0, **extra) -> pd.DataFrame:
    """``n`` consecutive ``seconds``-long trials without a baseline, from ``start`` s."""
    onsets = start + seconds * np.arange(n)
    table = pd.DataFrame(
        {
            "trial": np.arange(1, n + 1),
            "baseline_onset": onsets,
            "baseline_duration": 0.0,
            "stimulus_onset": onsets,
            "stimulus_duration": seconds,
            "valence": np.nan,
            "arousal": np.nan,
            "dominance": np.nan,
        }
    )
    return table.assign(**extra)[[*TRIAL_COLUMNS, *extra]]


@pytest.fixture(scope="module")
def e4(shared_data) -> Session:
    """Empatica E4 export of S01 (EDA, BVP, TEMP, HR, ACC; no EEG, no ECG) with ten 60-s trials."""
    session = read_session(shared_data / "stress-predict-e4" / "Raw_data" / "S01")
    conditions = np.array(["rest", "task"] * 5)
    return dataclasses.replace(session, trials=_trials(10, 60.0, 120.0, condition=conditions, stress=np.arange(10.0)))


@pytest.fixture(scope="module")
def eegmat(shared_data) -> Session:
    """physionet-eegmat Subject00_1: 19-channel 10-20 EEG (F3/F4, no AF3/AF4) and ECG, six 30-s trials."""
    session = read_session(shared_data / "physionet-eegmat" / "Subject00_1.edf")
    return dataclasses.replace(session, trials=_trials(6, 30.0))


def _cfg(**sections):
    base = {"source": {"synthetic": SYNTH, "via_files": False}, "preprocess": {"baseline": {"mode": "none"}}}
    return config_from_dict({**base, **sections})


def test_session_without_eeg_gets_peripheral_features_and_label_coords(e4):
    cfg = _cfg(windows={"length": 30.0, "hop": 30.0})
    result = session_features(e4, cfg)
    ds = result.features
    assert result.eeg_info is None and "eeg_sfreq" not in ds.attrs
    assert sorted(ds.data_vars) == ["eda_tonic_us", "scr_amplitude_us", "scr_count"]
    assert ds.sizes["window"] == 20 and "channel" not in ds.dims
    assert np.isfinite(ds["eda_tonic_us"].values).all()
    assert ds["condition"].values.tolist() == [c for c in ["rest", "task"] * 5 for _ in range(2)]
    assert ds["stress"].dtype == np.float64 and ds["stress"].values.tolist() == [k for k in range(10) for _ in range(2)]
    assert ds.attrs["label_columns"] == ["condition", "stress"]


def test_session_without_any_usable_modality_is_a_clear_error(e4):
    with pytest.raises(DataError, match="no EEG and features.peripheral is false"):
        session_features(e4, _cfg(features={"peripheral": False}, windows={"length": 30.0, "hop": 30.0}))


def test_missing_baseline_with_baseline_mode_names_both_keys(e4):
    cfg = config_from_dict({"source": {"synthetic": SYNTH}, "windows": {"length": 30.0, "hop": 30.0}})
    assert cfg.preprocess.baseline.mode == "feature_subtract"
    with pytest.raises(ConfigError, match=r"trials \[1, 2, .*trials.baseline.*preprocess.baseline.mode"):
        session_features(e4, cfg)


def test_montage_with_only_f4_f3_gets_that_pair_and_a_note(eegmat):
    result = session_features(eegmat, _cfg(windows={"length": 10.0, "hop": 10.0}))
    ds = result.features
    assert ds["pair"].values.tolist() == ["F4-F3"] and np.isfinite(ds["faa"].values).all()
    assert any("['AF4-AF3'] skipped" in note for note in result.log.notes)
    assert "hr_bpm" in ds and "eda_tonic_us" not in ds  # ECG but no EDA: no EDA feature, no error
    assert ds.sizes["channel"] == 19 and ds.sizes["window"] == 18


def test_asymmetry_off_or_absent_pairs_give_no_faa(eegmat):
    off = session_features(eegmat, _cfg(windows={"length": 10.0, "hop": 10.0}, features={"asymmetry_pairs": []}))
    assert "faa" not in off.features and "pair" not in off.features.coords
    assert any("asymmetry is off" in note for note in off.log.notes)
    absent = session_features(
        eegmat, _cfg(windows={"length": 10.0, "hop": 10.0}, features={"asymmetry_pairs": [["AF4", "AF3"]]})
    )
    assert "faa" not in absent.features
    assert any("no frontal asymmetry feature" in note and "AF4-AF3" in note for note in absent.log.notes)


def test_nan_features_are_counted_with_their_reason(eegmat):
    """2-s windows hold at most 2-3 beats: SDNN/RMSSD are NaN for too few beats, counted and noted."""
    result = session_features(eegmat, _cfg(windows={"length": 2.0, "hop": 2.0}, features={"asymmetry_pairs": []}))
    counts = result.nan_features()
    sdnn = counts["hrv_sdnn_ms"]
    n_nan = int(np.isnan(result.features["hrv_sdnn_ms"].values).sum())
    assert sdnn["n_nan"] == n_nan > 0 and sdnn["n_windows"] == 90
    assert sdnn["reasons"] == f"fewer than 3 beats: {n_nan}"
    assert "hr_bpm" not in counts  # every window has an RR interval around it
    noted = f"hrv_sdnn_ms is NaN in {n_nan} of 90 windows (fewer than 3 beats"
    assert any(note.startswith(noted) for note in result.log.notes)


def test_short_event_locked_trials_are_all_named_with_their_length(eegmat):
    session = dataclasses.replace(eegmat, trials=_trials(3, 1.5))
    with pytest.raises(DataError, match=r"trial 1 stimulus segment lasts 1\.50 s.*trial 3 .*3 of 3 trials"):
        session_features(session, _cfg(windows={"length": 2.0, "hop": 2.0}))


def _dropped_channel_session(index: int, config: SyntheticConfig) -> Session:
    session = make_session(index, config)
    trials = session.trials.assign(condition=["calm", "tense"][: session.n_trials])
    eeg = session.eeg.copy().drop_channels(["AF3", "O1"]) if index == 1 else session.eeg
    return Session(session.subject, eeg, trials, session.ecg, session.eda, session.info)


def test_cohort_uses_common_channels_and_lists_the_dropped_ones(tmp_path):
    synth = SyntheticConfig(**SYNTH)
    cfg = config_from_dict(EEG_ONLY)
    sources = [
        CallableSource(f"S{k + 1:02d}", functools.partial(_dropped_channel_session, k, synth), {"dropped": k})
        for k in range(3)
    ]
    run = process_cohort(sources, cfg, tmp_path / "cache")
    ds = run.features
    assert "AF3" not in ds["channel"].values and "O1" not in ds["channel"].values and ds.sizes["channel"] == 12
    assert ds["pair"].values.tolist() == ["F4-F3"]  # AF4-AF3 lost with AF3
    assert run.dropped_channels == {"S01": ["AF3", "O1"], "S03": ["AF3", "O1"]}
    summary = run.summary()
    assert summary["dropped_channels"] == run.dropped_channels
    assert any("AF4-AF3" in n for n in summary["notes"]["S01"])
    assert any("AF4-AF3" in n and "skipped" in n for n in summary["notes"]["S02"])
    # the condition coordinate (a string) survives the cache round trip
    assert set(ds["condition"].values.tolist()) == {"calm", "tense"} and ds["condition"].dtype.kind == "U"
    eager, results = cohort_features([_dropped_channel_session(k, synth) for k in range(3)], cfg)
    np.testing.assert_array_equal(eager["de"].values, ds["de"].values)
    # without the cache (the runner's other path) the report gets the same account
    account = results_account(results, eager)
    assert account["dropped_channels"] == run.dropped_channels and account["skipped"] == []
    assert account["notes"] == summary["notes"] and account["nan_features"] == summary["nan_features"]


def test_cohort_errors_name_subjects(e4):
    synth = SyntheticConfig(**SYNTH)
    cfg = config_from_dict(EEG_ONLY)
    a = session_features(make_session(0, synth), cfg)
    b = session_features(make_session(1, synth), cfg)
    only_b = dataclasses.replace(b, features=b.features.sel(channel=["O2"]))
    only_a = dataclasses.replace(a, features=a.features.sel(channel=["O1"]))
    with pytest.raises(DataError, match=r"no EEG channel in common \(S01: \['O1'\]; S02: \['O2'\]\)"):
        merge_results([only_a, only_b])
    fast = dataclasses.replace(b, features=b.features.assign_attrs(eeg_sfreq=256.0))
    with pytest.raises(DataError, match=r"S01: 128 Hz, S02: 256 Hz\); set preprocess.resample_sfreq"):
        merge_results([a, fast])
    peripheral = session_features(dataclasses.replace(e4, subject="E4"), _cfg(windows={"length": 30.0, "hop": 30.0}))
    with pytest.raises(DataError, match="subject S01 lacks EDA features.*subject E4 lacks EEG features"):
        merge_results([a, peripheral])


def _e4_session(folder) -> Session:
    session = read_session(folder)
    return dataclasses.replace(session, trials=_trials(4, 60.0, 120.0, condition=np.array(["rest", "task"] * 2)))


def test_session_without_eeg_round_trips_through_the_cohort_cache(tmp_path, shared_data):
    folder = shared_data / "stress-predict-e4" / "Raw_data" / "S01"
    source = CallableSource("S01", functools.partial(_e4_session, folder), {"e4": str(folder)})
    cfg = _cfg(windows={"length": 30.0, "hop": 30.0})
    first = process_cohort([source], cfg, tmp_path / "cache")
    again = process_cohort([source], cfg, tmp_path / "cache")
    assert first.computed == ["S01"] and again.cached == ["S01"]
    (result,) = again.results
    assert result.eeg_info is None
    assert sorted(result.features.data_vars) == ["eda_tonic_us", "scr_amplitude_us", "scr_count"]
    assert again.features["condition"].values.tolist() == ["rest"] * 2 + ["task"] * 2 + ["rest"] * 2 + ["task"] * 2
    assert again.summary()["nan_features"] == first.summary()["nan_features"]
    assert again.summary()["notes"] == first.summary()["notes"]
