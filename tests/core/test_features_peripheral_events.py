"""ECG/EDA events detected once per recording, and window features from them, against NeuroKit2 per window.

Real recordings from ``../shared/data`` (see its README): NeuroKit2's example data (MIT),
BioSPPy's ECG (BSD-3-Clause), PhysioNet eegmat Subject00_1 (ODC-By 1.0, Zyma et al. 2019)
and the Stress-Predict E4 EDA of S01 (MIT).
"""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from biosig.errors import DataError
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from biosig.features.peripheral_events import detect_ecg_events, detect_eda_events
from biosig.features.peripheral_windows import (
    NAN_FEWER_THAN_3_BEATS,
    NAN_FLAT_ECG,
    NAN_FLAT_EDA,
    NAN_NO_RR_INTERVAL,
    NAN_NONFINITE,
    ecg_features_from_beats,
    eda_features_from_events,
)
from biosig.io import read_session
from tests.helpers import SHARED_DATA

#: Beats closer than this to a window edge (s) may differ between per-window and per-recording detection:
#: NeuroKit2's zero-phase 0.5-Hz high-pass and its 0.75-s slope average see the edge there.
EDGE_S = 1.0


def _real_ecg(name: str) -> tuple[np.ndarray, float]:
    if name.startswith("neurokit2/"):
        session = read_session(SHARED_DATA / name, sfreq=100.0)
        if session.ecg is not None:
            return session.ecg.get_data(picks=[0])[0], 100.0
        return pd.read_csv(SHARED_DATA / name)["ECG"].to_numpy() * 1e-3, 100.0
    if name.startswith("biosppy/"):
        return np.loadtxt(SHARED_DATA / name) * 1e-6, 1000.0  # raw ADC counts; the detector is scale-free
    session = read_session(SHARED_DATA / name)
    return session.ecg.get_data(picks=[0])[0], session.ecg.info["sfreq"]  # its one lead, "ECG ECG"


def _per_window_peaks(x: np.ndarray, first: int, n: int, sfreq: float) -> np.ndarray:
    """NeuroKit2 run by hand on one window: R-peak sample indices on the recording's clock."""
    cleaned = nk.ecg_clean(x[first : first + n], sampling_rate=sfreq, method="neurokit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_peaks(cleaned, sampling_rate=sfreq, method="neurokit")
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64) + first


#: Recording -> beats away from window edges that per-window detection finds and the whole-recording
#: detection does not (bio_resting_5min: one borderline QRS at 93.0 s, seen by two overlapping windows,
#: that NeuroKit2 rejects as shorter than 0.4 x the signal's mean QRS length, a whole-signal statistic).
KNOWN_INNER_DIFFERENCES = {
    "neurokit2/bio_eventrelated_100hz.csv": 0,
    "neurokit2/bio_resting_5min_100hz.csv": 2,
    "biosppy/ecg.txt": 0,
    "physionet-eegmat/Subject00_1.edf": 0,
}


@pytest.mark.parametrize("name", sorted(KNOWN_INNER_DIFFERENCES))
def test_beats_and_heart_rate_equal_neurokit2_per_window_away_from_edges(name: str) -> None:
    x, sfreq = _real_ecg(name)
    beats = detect_ecg_events(x, sfreq)
    length = 10.0
    starts = np.arange(0.0, x.size / sfreq - length + 1e-9, 5.0)
    features = ecg_features_from_beats(beats, starts, starts + length)
    n = int(round(length * sfreq))
    inner_missing, compared, edge_windows = 0, 0, 0
    for i, start in enumerate(starts):
        first = int(round(start * sfreq))
        own = _per_window_peaks(x, first, n, sfreq)
        mine = beats.peaks[(beats.peaks >= first) & (beats.peaks < first + n)]
        inner = own[(own >= first + EDGE_S * sfreq) & (own < first + n - EDGE_S * sfreq)]
        distance = np.abs(inner[:, None] - beats.peaks[None, :]).min(axis=1) if inner.size else np.zeros(0)
        inner_missing += int((distance > 1).sum())
        if own.size == mine.size and own.size >= 2 and np.all(np.abs(own - mine) <= 1):
            compared += 1
            hr = 60000.0 / (np.diff(own).mean() / sfreq * 1000.0)
            assert abs(features.values["hr_bpm"][i] - hr) <= 0.5
            if own.size >= 3:
                rr = np.diff(own) / sfreq * 1000.0
                if np.array_equal(own, mine):
                    hrv = nk.hrv_time(own - first, sampling_rate=sfreq)
                    assert features.values["hrv_sdnn_ms"][i] == pytest.approx(hrv["HRV_SDNN"].iloc[0], rel=1e-9)
                    assert features.values["hrv_rmssd_ms"][i] == pytest.approx(hrv["HRV_RMSSD"].iloc[0], rel=1e-9)
                    assert features.values["hrv_meannn_ms"][i] == pytest.approx(rr.mean(), rel=1e-12)
        else:
            # The beats differ: only in the edge zone (checked by inner_missing) or where the windows' own
            # detection differs from the recording's; such windows are counted, not compared.
            edge_windows += 1
    assert inner_missing == KNOWN_INNER_DIFFERENCES[name]
    assert compared >= len(starts) // 2, f"only {compared} of {len(starts)} windows compared ({edge_windows} at edges)"


def test_one_second_event_locked_windows_get_a_heart_rate() -> None:
    x, sfreq = _real_ecg("neurokit2/bio_eventrelated_100hz.csv")
    onsets = np.array([1023, 4957, 9223, 12983]) / sfreq  # photosensor drops: the image onsets
    features = ecg_features_from_beats(detect_ecg_events(x, sfreq), onsets, onsets + 1.0)
    assert np.isfinite(features.values["hr_bpm"]).all()
    assert ((features.values["hr_bpm"] > 40) & (features.values["hr_bpm"] < 150)).all()
    assert features.nan_reasons["hr_bpm"] == {}


def test_window_features_equal_a_loop_over_windows_with_nan_reasons() -> None:
    sfreq = 100.0
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1e-3, 6000)
    x[3000:3500] = 0.0  # flat
    x[4500] = np.nan
    peaks = np.cumsum(rng.integers(60, 100, 80))
    peaks = peaks[peaks < 6000]
    from biosig.features.peripheral_events import BeatEvents

    beats = BeatEvents(peaks=peaks, sfreq=sfreq, signal=x)
    starts = np.array([0.0, 1.0, 5.5, 30.0, 44.0, 10.0, 20.0, 0.2])
    stops = starts + np.array([10.0, 1.5, 1.0, 4.0, 3.0, 0.7, 30.0, 0.5])
    got = ecg_features_from_beats(beats, starts, stops)
    for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
        first, last = round(a * sfreq), round(a * sfreq) + round((b - a) * sfreq)
        p = peaks[(peaks >= first) & (peaks < last)]
        rr = np.diff(p) / sfreq * 1000.0
        bad = not np.isfinite(x[first:last]).all() or np.ptp(x[first:last]) <= 1e-5
        around = np.concatenate([peaks[peaks < first][-1:], p, peaks[peaks >= last][:1]])
        expect_hr = np.nan if bad else 60000.0 / (rr.mean() if p.size >= 2 else np.diff(around).mean() / sfreq * 1000)
        expect_sd = np.nan if bad or p.size < 3 else rr.std(ddof=1)
        expect_rm = np.nan if bad or p.size < 3 else np.sqrt(np.mean(np.diff(rr) ** 2))
        np.testing.assert_allclose(got.values["hr_bpm"][i], expect_hr, rtol=1e-10)
        np.testing.assert_allclose(got.values["hrv_sdnn_ms"][i], expect_sd, rtol=1e-8)
        np.testing.assert_allclose(got.values["hrv_rmssd_ms"][i], expect_rm, rtol=1e-8)
    assert set(got.values) == set(ECG_FEATURES)
    assert got.nan_reasons["hr_bpm"] == {NAN_NONFINITE: 2, NAN_FLAT_ECG: 1}  # [44, 47) and [20, 50) hold the NaN
    assert got.nan_reasons["hrv_sdnn_ms"][NAN_FEWER_THAN_3_BEATS] >= 1
    none = BeatEvents(peaks=peaks[:1], sfreq=sfreq, signal=x)  # one beat: no RR interval anywhere
    assert ecg_features_from_beats(none, starts[:1], stops[:1]).nan_reasons["hr_bpm"] == {NAN_NO_RR_INTERVAL: 1}
    with pytest.raises(DataError, match="outside"):
        ecg_features_from_beats(beats, np.array([59.5]), np.array([61.0]))


def test_eda_features_from_events_on_the_e4_recording() -> None:
    session = read_session(SHARED_DATA / "stress-predict-e4" / "Raw_data" / "S01")
    eda = session.eda.get_data(picks=[0])[0]
    sfreq = session.eda.info["sfreq"]
    events = detect_eda_events(eda, sfreq)
    starts = np.arange(0.0, eda.size / sfreq - 20.0, 10.0)
    got = eda_features_from_events(events, starts, starts + 20.0)
    assert set(got.values) == set(EDA_FEATURES)
    for i in (0, len(starts) // 2, len(starts) - 1):
        first = round(starts[i] * sfreq)
        assert got.values["eda_tonic_us"][i] == pytest.approx(events.tonic_us[first : first + 80].mean(), rel=1e-9)
        inside = (events.peaks >= first) & (events.peaks < first + 80)
        assert got.values["scr_count"][i] == inside.sum()


def test_flat_and_nonfinite_eda_windows_are_nan_with_their_reason() -> None:
    sfreq = 32.0
    t = np.arange(int(120 * sfreq)) / sfreq
    eda = (5 + 0.5 * np.exp(-(((t - 30) / 3) ** 2))) * 1e-6
    eda[int(60 * sfreq) : int(80 * sfreq)] = 5e-6
    eda[int(100 * sfreq)] = np.inf
    events = detect_eda_events(eda, sfreq)
    got = eda_features_from_events(events, np.array([20.0, 62.0, 95.0]), np.array([40.0, 78.0, 105.0]))
    assert got.values["scr_count"][0] == 1 and got.values["scr_amplitude_us"][0] > 0.2
    assert np.isnan(got.values["eda_tonic_us"][1:]).all()
    assert got.nan_reasons["eda_tonic_us"] == {NAN_NONFINITE: 1, NAN_FLAT_EDA: 1}


def test_extract_peripheral_features_carry_units_and_nan_reasons() -> None:
    from biosig.features.extract import peripheral_features

    x, sfreq = _real_ecg("neurokit2/bio_eventrelated_100hz.csv")
    beats = detect_ecg_events(x, sfreq)
    starts = np.array([0.0, 10.0, 20.0])
    features = peripheral_features(beats, None, starts, starts + np.array([10.0, 10.0, 1.0]))
    assert sorted(features.data_vars) == sorted(ECG_FEATURES)
    assert features["hr_bpm"].attrs == {"units": "bpm", "nan_reasons": ""}
    assert features["hrv_sdnn_ms"].attrs["nan_reasons"] in ("", f"{NAN_FEWER_THAN_3_BEATS}: 1")
    assert np.isfinite(features["hr_bpm"].values).all()
