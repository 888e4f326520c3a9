"""One span's ECG/EDA features (the live per-window step) equal the many-window functions on the same events.

Real recordings from ``../shared/data`` (see its README): NeuroKit2's example data (MIT).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from biosig.features.peripheral_causal import detect_ecg_events_causal, detect_eda_events_causal
from biosig.features.peripheral_span import ecg_span_features, eda_span_features
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from tests.helpers import SHARED_DATA


def _windows(n_times: int, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of 0.5 to 12 s (0 to many beats or SCRs) inside the recording: first and last samples."""
    rng = np.random.default_rng(seed)
    lengths = np.round(rng.uniform(0.5, 12.0, size=300) * rate).astype(np.int64)
    first = rng.integers(0, n_times - lengths)
    return first, first + lengths


def _nan_and_flat(x: np.ndarray, rate: float) -> np.ndarray:
    """A copy with a NaN stretch at 20 s and a flat one at 40-46 s."""
    x = x.copy()
    x[int(20 * rate) : int(20 * rate) + 5] = np.nan
    x[int(40 * rate) : int(46 * rate)] = x[int(40 * rate)]
    return x


@pytest.mark.parametrize("source", ["neurokit2/bio_resting_5min_100hz.csv", "synthetic"])
def test_ecg_span_features_equal_the_many_window_function(source):
    if source == "synthetic":
        session = make_session(1, SyntheticConfig(n_trials=2))
        x, rate = session.ecg.get_data(picks=[0])[0], float(session.ecg.info["sfreq"])
    else:
        x, rate = pd.read_csv(SHARED_DATA / source)["ECG"].to_numpy()[: 120 * 100] * 1e-3, 100.0
    x = _nan_and_flat(x, rate)
    events = detect_ecg_events_causal(x, rate)
    first, last = _windows(x.size, rate, seed=0)
    many = ecg_features_from_beats(events, first / rate, last / rate, events.detected)
    expected = np.column_stack([many.values[name] for name in ECG_FEATURES])
    got = np.stack([
        ecg_span_features(events.peaks, events.detected, x[a:b], int(a), rate) for a, b in zip(first, last, strict=True)
    ])  # fmt: skip
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # Every case occurs: NaN samples or flat, fewer than 2 beats (RR around the span), 2 beats, 3 or more.
    assert np.isnan(got).all(axis=1).any() and np.isfinite(got).all(axis=1).any()
    assert (np.isfinite(got[:, 0]) & np.isnan(got[:, 2])).any()


def test_eda_span_features_equal_the_many_window_function():
    eda = pd.read_csv(SHARED_DATA / "neurokit2" / "bio_eventrelated_100hz.csv")["EDA"].to_numpy() * 1e-6
    rate = 100.0
    x = _nan_and_flat(eda, rate)
    events = detect_eda_events_causal(x, rate)
    first, last = _windows(x.size, rate, seed=1)
    many = eda_features_from_events(events, first / rate, last / rate, events.detected)
    expected = np.column_stack([many.values[name] for name in EDA_FEATURES])
    got = np.stack([
        eda_span_features(events.peaks, events.detected, events.amplitudes_us, x[a:b], events.tonic_us[a:b], int(a))
        for a, b in zip(first, last, strict=True)
    ])  # fmt: skip
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    assert np.isnan(got).all(axis=1).any() and (got[:, 1] == 0).any() and (got[:, 1] >= 2).any()
