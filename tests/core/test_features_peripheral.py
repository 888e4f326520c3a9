"""ECG and EDA window features on simulated signals with known heart rate, RR and SCRs."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest

from biosig.errors import DataError
from biosig.features.peripheral import (
    ECG_FEATURES,
    EDA_FEATURES,
    ecg_window_features,
    eda_window_features,
)

ECG_SFREQ = 256
EDA_SFREQ = 64


def synthetic_ecg(r_peaks: np.ndarray, n_times: int, sfreq: float) -> np.ndarray:
    """ECG in volts with Q, R, S and T waves around given R-peak sample indices."""
    t = np.arange(n_times) / sfreq
    ecg = np.zeros(n_times)
    for peak in r_peaks:
        dt = t - peak / sfreq
        ecg += (
            1e-3 * np.exp(-(dt**2) / (2 * 0.008**2))
            - 0.15e-3 * np.exp(-((dt + 0.025) ** 2) / (2 * 0.008**2))
            - 0.2e-3 * np.exp(-((dt - 0.025) ** 2) / (2 * 0.008**2))
            + 0.3e-3 * np.exp(-((dt - 0.25) ** 2) / (2 * 0.04**2))
        )
    return ecg


@pytest.mark.parametrize("heart_rate", [55, 70, 95])
def test_heart_rate_of_simulated_ecg(heart_rate: int) -> None:
    ecg = nk.ecg_simulate(duration=60, sampling_rate=ECG_SFREQ, heart_rate=heart_rate, random_state=7) * 1e-3
    windows = ecg.reshape(6, 10 * ECG_SFREQ)
    features = ecg_window_features(windows, ECG_SFREQ)
    assert set(features) == set(ECG_FEATURES)
    for values in features.values():
        assert values.shape == (6,)
        assert values.dtype == np.float64
    np.testing.assert_allclose(features["hr_bpm"], heart_rate, atol=2.0)


def test_hrv_matches_hand_computation_from_known_rr() -> None:
    rng = np.random.default_rng(3)
    n_times = 10 * ECG_SFREQ
    windows, expected = [], []
    for _ in range(3):
        rr_samples = rng.integers(int(0.65 * ECG_SFREQ), int(1.05 * ECG_SFREQ), size=20)
        peaks = int(0.5 * ECG_SFREQ) + np.concatenate([[0], np.cumsum(rr_samples)])
        peaks = peaks[peaks < n_times - int(0.5 * ECG_SFREQ)]
        windows.append(synthetic_ecg(peaks, n_times, ECG_SFREQ))
        rr_ms = np.diff(peaks) / ECG_SFREQ * 1000
        expected.append(
            [
                60000 / rr_ms.mean(),
                rr_ms.mean(),
                np.sqrt(np.sum((rr_ms - rr_ms.mean()) ** 2) / (rr_ms.size - 1)),
                np.sqrt(np.mean(np.diff(rr_ms) ** 2)),
            ]
        )
    features = ecg_window_features(np.stack(windows), ECG_SFREQ)
    got = np.stack([features[key] for key in ECG_FEATURES], axis=1)
    # R-peaks lie on the sample grid and the detector finds them exactly.
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-9)


def test_ecg_bad_windows_give_nan_and_leave_others_alone() -> None:
    n_times = 10 * ECG_SFREQ
    good = synthetic_ecg(np.arange(100, n_times - 100, 200), n_times, ECG_SFREQ)
    flat = np.full(n_times, 2e-3)
    with_nan = good.copy()
    with_nan[500] = np.nan
    two_beats = synthetic_ecg(np.array([600, 1400]), n_times, ECG_SFREQ)
    features = ecg_window_features(np.stack([good, flat, with_nan, two_beats, good]), ECG_SFREQ)
    for key in ECG_FEATURES:
        assert np.isnan(features[key][1:4]).all(), key
        assert np.isfinite(features[key][[0, 4]]).all(), key
    np.testing.assert_allclose(features["hr_bpm"][[0, 4]], 60 * ECG_SFREQ / 200)


def test_ecg_input_errors() -> None:
    with pytest.raises(DataError, match="shape"):
        ecg_window_features(np.zeros(2560), ECG_SFREQ)
    with pytest.raises(DataError, match="too short"):
        ecg_window_features(np.zeros((2, 128)), ECG_SFREQ)


def simulated_eda_siemens(scr_number: int, seed: int, duration: int = 120) -> np.ndarray:
    """nk.eda_simulate (µS, baseline 1 µS, SCRs of about 1 µS) plus white noise, in siemens.

    The noise is added here rather than by ``eda_simulate(noise=...)``, whose
    noise scales with the signal's spread and so differs between SCR counts.
    """
    eda_us = nk.eda_simulate(
        duration=duration,
        sampling_rate=EDA_SFREQ,
        scr_number=scr_number,
        drift=0.0,
        noise=0.0,
        random_state=seed,
    )
    eda_us += np.random.default_rng(seed).normal(0.0, 0.01, eda_us.size)  # 0.01 µS sensor noise
    return eda_us * 1e-6


def test_more_simulated_scrs_give_higher_counts() -> None:
    totals = []
    for scr_number in (0, 4, 12):
        windows = simulated_eda_siemens(scr_number, seed=1).reshape(-1, 10 * EDA_SFREQ)
        features = eda_window_features(windows, EDA_SFREQ)
        assert set(features) == set(EDA_FEATURES)
        for values in features.values():
            assert values.shape == (12,)
            assert values.dtype == np.float64
        totals.append(features["scr_count"].sum())
        has_scr = features["scr_count"] > 0
        assert (features["scr_amplitude_us"][~has_scr] == 0).all()
        # Simulated SCRs have an amplitude of about 1 µS.
        np.testing.assert_allclose(features["scr_amplitude_us"][has_scr], 1.0, atol=0.15)
    assert totals[0] == 0
    assert totals[0] < totals[1] < totals[2]


def test_tonic_level_tracks_constant_offset() -> None:
    windows = simulated_eda_siemens(6, seed=2, duration=60).reshape(-1, 6 * EDA_SFREQ)
    base = eda_window_features(windows, EDA_SFREQ)
    shifted = eda_window_features(windows + 2.5e-6, EDA_SFREQ)  # + 2.5 µS
    np.testing.assert_allclose(shifted["eda_tonic_us"] - base["eda_tonic_us"], 2.5, atol=1e-6)
    np.testing.assert_array_equal(shifted["scr_count"], base["scr_count"])
    # Baseline of the simulation is 1 µS; the tonic mean stays near it.
    assert np.all((base["eda_tonic_us"] > 0.8) & (base["eda_tonic_us"] < 2.2))


def test_eda_bad_windows_give_nan() -> None:
    windows = simulated_eda_siemens(4, seed=3, duration=40).reshape(-1, 10 * EDA_SFREQ)
    windows[1] = 3e-6
    windows[2, 17] = np.nan
    features = eda_window_features(windows, EDA_SFREQ)
    for key in EDA_FEATURES:
        assert np.isnan(features[key][1:3]).all(), key
        assert np.isfinite(features[key][[0, 3]]).all(), key


def test_eda_input_errors() -> None:
    with pytest.raises(DataError, match="6 Hz"):
        eda_window_features(np.ones((2, 100)), 4.0)
    with pytest.raises(DataError, match="too short"):
        eda_window_features(np.ones((2, 10)), EDA_SFREQ)
