"""Causal resampling against scipy.signal.upfirdn, and a stream at another rate than the model's against offline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from biosig.errors import DataError
from biosig.preprocess.eeg import apply_filters
from biosig.preprocess.resample import (
    CausalResampler,
    resample_causal,
    resample_factors,
    resample_filter,
    resample_raw_causal,
)
from biosig.preprocess.windows import window_indices
from streaming.online import OnlinePipeline
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_online import CAUSAL, assert_offline_predictions, feed, live_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(("up", "down"), [(1, 2), (1, 4), (32, 125), (5, 3)])
def test_the_filter_is_the_one_resample_poly_designs(up, down):
    x = np.random.default_rng(0).standard_normal(900)
    h = resample_filter(up, down)
    # resample_poly scales a given filter by up, as it scales its own design.
    np.testing.assert_allclose(
        signal.resample_poly(x, up, down, window=h / up), signal.resample_poly(x, up, down), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize(("sfreq_in", "sfreq_out"), [(256.0, 128.0), (512.0, 128.0), (500.0, 128.0), (100.0, 128.0)])
def test_irregular_chunks_give_upfirdn_sample_for_sample(sfreq_in, sfreq_out):
    rng = np.random.default_rng(1)
    n = int(3 * sfreq_in) + 7
    x = rng.standard_normal((3, n))
    t = 20.0 + np.arange(n) / sfreq_in
    resampler = CausalResampler(sfreq_in, sfreq_out, 3)
    outs, stamps, i = [], [], 0
    for size in rng.integers(0, 45, size=n):  # empty chunks too
        y, s = resampler(x[:, i : i + size], t[i : i + size])
        outs.append(y)
        stamps.append(s)
        i += size
        if i >= n:
            break
    y, s = np.concatenate(outs, axis=1), np.concatenate(stamps)
    up, down = resample_factors(sfreq_in, sfreq_out)
    n_out = -(-n * up // down)  # ceil(n * up / down), the length resample_poly gives
    reference = signal.upfirdn(resample_filter(up, down), x, up, down, axis=-1)[:, :n_out]
    assert y.shape == (3, n_out)
    np.testing.assert_allclose(y, reference, rtol=1e-10, atol=1e-12)
    # Output m lies at input position m * down / up, i.e. m / sfreq_out after the first input.
    np.testing.assert_allclose(s, 20.0 + np.arange(n_out) / sfreq_out, rtol=0, atol=1e-9)
    np.testing.assert_allclose(resample_causal(x, sfreq_in, sfreq_out), reference, rtol=1e-10, atol=1e-12)


def test_a_resampled_sine_is_the_input_delayed_by_the_group_delay():
    fs_in, fs_out = 512.0, 128.0
    t = np.arange(int(4 * fs_in)) / fs_in
    resampler = CausalResampler(fs_in, fs_out, 1)
    y, stamps = resampler(np.sin(2 * np.pi * 7.0 * t)[None], t)
    assert resampler.delay == pytest.approx(40 / 512)  # half_len = 10 * 4 input samples
    m = np.arange(resampler.warmup_samples, y.shape[1])
    np.testing.assert_allclose(y[0, m], np.sin(2 * np.pi * 7.0 * (stamps[m] - resampler.delay)), atol=5e-3)
    assert np.abs(y[0, : resampler.warmup_samples // 2]).max() < 0.9  # the zero state still shows at the start


def test_rates_become_factors_or_a_data_error():
    assert resample_factors(512.0, 128.0) == (1, 4)
    assert resample_factors(500.0, 128.0) == (32, 125)
    assert resample_factors(100.0, 128.0) == (32, 25)
    with pytest.raises(DataError, match="cannot resample 128 Hz to 127.99 Hz"):
        resample_factors(128.0, 127.99)
    with pytest.raises(DataError, match="positive input rate"):
        resample_factors(0.0, 128.0)


def offline_causal(raw, sfreq: float):
    """The offline pipeline with causal filtering: filter at the recording's rate, reference, resample causally."""
    raw = raw.copy()
    apply_filters(raw, CAUSAL)
    raw.set_eeg_reference("average", projection=False, verbose="error")
    return resample_raw_causal(raw, sfreq)


def test_a_256_hz_stream_into_a_128_hz_model_gives_the_offline_causal_windows():
    raw = emotiv_raw(seconds=8.0, sfreq=256.0, seed=11)
    model = live_model(hop=0.1)
    pipe = OnlinePipeline(model, max_lag=None, keep_signals=True, stream_sfreq=256.0)
    x = raw.get_data().T
    stamps = 50.0 + np.arange(len(x)) / 256.0
    windows, _ = feed(pipe, x, stamps, np.random.default_rng(2).integers(1, 70, size=len(x)))

    offline = offline_causal(raw, 128.0)
    assert offline.info["sfreq"] == 128.0 and offline.ch_names == list(EMOTIV)
    data = offline.get_data()
    assert len(windows) == int((8.0 - 1.0) / 0.1 + 1e-9) + 1
    idx = window_indices(0.1 * np.arange(len(windows)), 1.0, 128.0, data.shape[1], "test")
    expected = np.moveaxis(data[:, idx], 0, 1)
    got = np.stack([w.signal for w in windows])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    # Stamps from the input stamps: output m at m / 128 s after the first input sample.
    np.testing.assert_allclose([w.t_first for w in windows], 50.0 + idx[:, 0] / 128.0, atol=1e-9)
    np.testing.assert_allclose([w.t_last for w in windows], 50.0 + idx[:, -1] / 128.0, atol=1e-9)

    warm = np.array([w.predicted for w in windows])
    # Windows starting inside the warm-up of the filters and the resampler get no prediction, the others do.
    assert "filter warm-up" in windows[0].reasons and warm[-40:].all()
    np.testing.assert_array_equal(warm, idx[:, 0] >= pipe.warmup)
    assert_offline_predictions(model, windows, expected, warm)


def test_raw_checks_see_every_input_sample_of_the_window():
    raw = emotiv_raw(seconds=6.0, sfreq=512.0, seed=12)
    x = raw.get_data().T
    x[2001, EMOTIV.index("T7")] = np.nan  # between the positions of outputs 500 and 501 (512 -> 128 Hz)
    stamps = np.arange(len(x)) / 512.0
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None, stream_sfreq=512.0)
    windows, _ = feed(pipe, x, stamps, 37)
    assert pipe.stats.invalid_samples == 1
    hit = [w.t_first <= stamps[2001] <= w.t_last for w in windows]
    flagged = [any(r.startswith("invalid samples") and "T7" in r for r in w.reasons) for w in windows]
    assert any(hit) and flagged == hit


def test_a_model_rate_too_low_for_its_low_pass_is_a_data_error():
    with pytest.raises(DataError, match="resampled to the model's 64 Hz, too low for preprocess.filter.h_freq = 45"):
        OnlinePipeline(live_model(sfreq=64.0, kinds=("dgcnn",)), stream_sfreq=256.0)


def test_a_cropped_recording_keeps_its_clock_and_annotations_when_resampled():
    # MNE's own (zero-phase) resample is the reference for where samples and annotations sit in time.
    import mne

    from biosig.preprocess.resample import resample_raw_causal

    info = mne.create_info(["Fz", "Cz"], 256.0, "eeg")
    raw = mne.io.RawArray(np.random.default_rng(0).standard_normal((2, 256 * 10)) * 1e-5, info, verbose="error")
    raw.info["line_freq"] = 50.0
    raw.set_annotations(mne.Annotations([3.0], [1.0], ["BAD_segment"]))
    raw.crop(tmin=2.0)
    causal = resample_raw_causal(raw, 128.0)
    zero_phase = raw.copy().resample(128.0, verbose="error")
    assert causal.first_samp == zero_phase.first_samp == 256
    assert causal.first_time == zero_phase.first_time == 2.0
    np.testing.assert_allclose(causal.annotations.onset, zero_phase.annotations.onset)
    assert causal.info["line_freq"] == 50.0
    # The BAD span covers the same seconds of the recording's clock, i.e. samples 1-2 s after the crop.
    bad = np.flatnonzero(causal.get_data(reject_by_annotation="NaN")[0] != causal.get_data(reject_by_annotation="NaN")[0])
    assert bad[0] == 128 and bad[-1] == 255
