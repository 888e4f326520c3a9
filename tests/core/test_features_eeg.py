"""EEG window features against independent references (numpy FFT, scipy.signal.welch)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from biosig.errors import ConfigError, DataError
from biosig.features.eeg import (
    DEFAULT_BANDS,
    band_power,
    differential_entropy,
    frontal_asymmetry,
)

SFREQ = 128.0
CHANNELS = ["AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4"]


def welch_band_power(data: np.ndarray, sfreq: float, n_per_seg: int) -> np.ndarray:
    """Reference: scipy's Welch PSD summed over the bins fmin <= f < fmax, times df."""
    freqs, psd = scipy.signal.welch(
        data, sfreq, window="hann", nperseg=n_per_seg, noverlap=n_per_seg // 2, axis=-1
    )
    df = freqs[1] - freqs[0]
    return np.stack(
        [psd[..., (freqs >= lo) & (freqs < hi)].sum(axis=-1) * df for lo, hi in DEFAULT_BANDS.values()],
        axis=-1,
    )


@pytest.mark.parametrize(
    ("n_times", "segment_seconds", "n_per_seg"),
    [(128, None, 128), (512, None, 256), (512, 1.0, 128), (300, None, 256), (1000, 2.5, 320)],
)
def test_band_power_matches_scipy_welch(n_times: int, segment_seconds: float | None, n_per_seg: int) -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((7, 14, n_times)) * 20e-6 + 4e-3  # volts, with an electrode offset
    got = band_power(data, SFREQ, segment_seconds=segment_seconds)
    assert got.shape == (7, 14, len(DEFAULT_BANDS))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, welch_band_power(data, SFREQ, n_per_seg), rtol=1e-10, atol=0)


@pytest.mark.parametrize("n_times", [128, 512])
@pytest.mark.parametrize(("freq", "band"), [(6.0, "theta"), (10.0, "alpha"), (20.0, "beta"), (37.0, "gamma")])
def test_sinusoid_power_is_half_amplitude_squared(n_times: int, freq: float, band: str) -> None:
    amplitude = 30e-6
    t = np.arange(n_times) / SFREQ
    phases = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    data = amplitude * np.sin(2 * np.pi * freq * t + phases[:, None])
    power = band_power(data, SFREQ)
    j = list(DEFAULT_BANDS).index(band)
    # Parseval: mean square of A sin is A**2 / 2, within 2 % in the band.
    np.testing.assert_allclose(power[:, j], amplitude**2 / 2, rtol=0.02)
    others = np.delete(power, j, axis=1)
    assert others.max() < 1e-3 * amplitude**2 / 2


def test_adjacent_bands_do_not_double_count() -> None:
    data = np.random.default_rng(1).standard_normal((5, 3, 512))
    split = band_power(data, SFREQ, bands={"a": (4, 8), "b": (8, 13)})
    whole = band_power(data, SFREQ, bands={"ab": (4, 13)})
    np.testing.assert_allclose(split.sum(axis=-1), whole[..., 0], rtol=1e-12)


@pytest.mark.parametrize("n_times", [128, 512])
def test_vectorised_equals_per_window_loop(n_times: int) -> None:
    data = np.random.default_rng(2).standard_normal((300, 14, n_times)) * 1e-5
    batch = band_power(data, SFREQ)
    loop = np.stack([band_power(window, SFREQ) for window in data])
    np.testing.assert_allclose(batch, loop, rtol=1e-12, atol=0)
    np.testing.assert_allclose(band_power(data, SFREQ, n_jobs=1), batch, rtol=1e-12, atol=0)
    np.testing.assert_allclose(differential_entropy(batch), np.stack([differential_entropy(p) for p in loop]))


def test_float32_input_gives_float64_power() -> None:
    data = np.random.default_rng(3).standard_normal((4, 2, 256))
    np.testing.assert_allclose(band_power(data.astype(np.float32), SFREQ), band_power(data, SFREQ), rtol=1e-6)


def test_differential_entropy_of_gaussian_noise() -> None:
    """DE from windowed band power vs the time-domain DE of brick-wall band-limited noise."""
    rng = np.random.default_rng(42)
    n = int(600 * SFREQ)
    noise = rng.standard_normal(n) * 10e-6
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    windows = noise.reshape(-1, int(4 * SFREQ))  # 150 windows of 4 s
    de = differential_entropy(band_power(windows, SFREQ))
    for j, (name, (lo, hi)) in enumerate(DEFAULT_BANDS.items()):
        band_limited = np.fft.irfft(np.where((freqs >= lo) & (freqs < hi), spectrum, 0), n)
        reference = 0.5 * np.log(2 * np.pi * np.e * band_limited.var())
        # Mean of per-window DE: 0.05 nats covers the estimation noise and the
        # Jensen bias of a log of a ~30-dof estimate (about -1/dof, < 0.02 here).
        assert abs(de[:, j].mean() - reference) < 0.05, name
        # The power itself is calibrated: DE of the window-averaged power is
        # within 0.02 nats (noise of the 600-s reference, ~1.5 % in power).
        assert abs(differential_entropy(band_power(windows, SFREQ)[:, j].mean()) - reference) < 0.02, name


def test_differential_entropy_formula_and_units() -> None:
    power = np.array([1e-12, 4e-12, 0.0])
    de = differential_entropy(power)
    np.testing.assert_allclose(de[:2], 0.5 * np.log(2 * np.pi * np.e * power[:2]))
    assert de[2] == -np.inf
    # Same signal in µV² instead of V²: shifted by 0.5 * ln(1e12).
    np.testing.assert_allclose(differential_entropy(power[:2] * 1e12) - de[:2], 0.5 * np.log(1e12))


def test_differential_entropy_rejects_negative_and_nan() -> None:
    with pytest.raises(DataError, match="negative"):
        differential_entropy(np.array([1.0, -1.0]))
    with pytest.raises(DataError, match="NaN"):
        differential_entropy(np.array([1.0, np.nan]))


def test_frontal_asymmetry_hand_computed() -> None:
    power = np.ones((2, len(CHANNELS), 5))
    alpha = 2
    power[0, CHANNELS.index("F4"), alpha] = 3.0
    power[0, CHANNELS.index("F3"), alpha] = 1.5
    power[1, CHANNELS.index("AF4"), alpha] = 0.5
    power[1, CHANNELS.index("AF3"), alpha] = 2.0
    power[:, CHANNELS.index("F4"), 3] = 100.0  # another band: must not matter
    got = frontal_asymmetry(power, CHANNELS, band_index=alpha)
    expected = np.array([[np.log(3.0 / 1.5), 0.0], [0.0, np.log(0.5 / 2.0)]])
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    custom = frontal_asymmetry(power, CHANNELS, alpha, pairs=[("F8", "F7"), ("F4", "F3")])
    np.testing.assert_allclose(custom[:, 1], expected[:, 0])


def test_frontal_asymmetry_missing_channel_is_named() -> None:
    power = np.ones((1, 3, 5))
    with pytest.raises(DataError, match="AF4"):
        frontal_asymmetry(power, ["F3", "F4", "AF3"], band_index=2)


def test_nyquist_error_names_band() -> None:
    data = np.zeros((2, 3, 128))
    with pytest.raises(DataError, match="'gamma'.*Nyquist"):
        band_power(data, 64.0)


def test_band_without_bin_names_band_and_resolution() -> None:
    data = np.random.default_rng(4).standard_normal((2, 3, 32))  # 0.25 s -> 4 Hz bins
    with pytest.raises(DataError, match=r"'delta'.*resolution 4 Hz.*too short"):
        band_power(data, SFREQ)
    with pytest.raises(DataError, match="segments of 16 samples"):
        band_power(np.zeros((2, 3, 512)), SFREQ, segment_seconds=0.125)


def test_argument_errors() -> None:
    with pytest.raises(DataError, match="n_times >= 2"):
        band_power(np.zeros((3, 1)), SFREQ)
    with pytest.raises(DataError, match="sfreq"):
        band_power(np.zeros((3, 128)), 0.0)
    with pytest.raises(ConfigError, match="n_jobs"):
        band_power(np.zeros((3, 128)), SFREQ, n_jobs=0)


def test_nonfinite_data_names_windows_and_channels() -> None:
    data = np.random.default_rng(5).standard_normal((10, 14, 128))
    data[3, 5, 17] = np.nan
    data[7, 5, 0] = np.inf
    with pytest.raises(DataError, match=r"2 of 10 windows.*\[3, 7\].*channel indices \[5\]"):
        band_power(data, SFREQ)
