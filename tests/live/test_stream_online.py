"""The online pipeline without LSL: filters against MNE, windows, signal quality, time-stamp faults."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from scipy import signal

from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import ConfigError
from biosig.features.eeg import band_power, differential_entropy
from biosig.preprocess.causal import CausalFilter, design_filters
from biosig.preprocess.eeg import apply_filters
from biosig.preprocess.windows import window_indices
from graphs.models import build_model, predict
from streaming.model_io import LiveModel, LiveSpec, TargetModel
from streaming.online import OnlinePipeline, QualityConfig
from tests.helpers import EMOTIV, emotiv_raw

CAUSAL = FilterConfig(method="iir", causal=True)
SCALE = np.arange(1.0, 6.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def live_model(
    channels: tuple[str, ...] = EMOTIV,
    sfreq: float = 128.0,
    hop: float = 0.125,
    filt: FilterConfig | None = CAUSAL,
    reference: str | None = "average",
    kinds: tuple[str, ...] = ("histn", "dgcnn"),
    scale: float = 1e-5,
) -> LiveModel:
    """HiSTN (valence, raw windows) and/or DGCNN (arousal, DE) with seeded random weights, 1-s windows.

    Inputs are divided by ``scale`` volts so that the random networks see
    unit-size inputs and their outputs vary from window to window.
    """
    from graphs.regions import hierarchy_for

    spec = LiveSpec(
        tuple(channels), sfreq, WindowConfig(length=1.0, hop=hop), filt, reference, FeatureConfig(),
        offset=None, scale=np.full(len(channels), scale),
    )  # fmt: skip
    models = []
    for kind, target in zip(kinds, ("valence", "arousal"), strict=False):
        if kind == "histn":
            model = build_model("histn", n_outputs=5, n_times=int(sfreq), hierarchy=hierarchy_for(list(channels)))
        else:
            model = build_model("dgcnn", n_outputs=5, n_channels=len(channels), seed=1)
        models.append(TargetModel(model, (target,), SCALE, kind))
    return LiveModel(spec, models)


def assert_offline_predictions(model: LiveModel, windows: list, expected: np.ndarray, warm: np.ndarray) -> None:
    """The live valence (HiSTN on the raw window) and arousal (DGCNN on its DE) of :func:`live_model` equal the
    models run on the offline windows ``expected`` ``(n_windows, n_channels, n_times)`` (V, 128 Hz) where ``warm``."""
    scaled = expected[warm] / 1e-5
    valence = predict(model.models[0].model, torch.tensor(scaled, dtype=torch.float32), SCALE).expected
    de = differential_entropy(band_power(scaled, 128.0, dict(FeatureConfig().bands)))
    arousal = predict(model.models[1].model, torch.tensor(de, dtype=torch.float32), SCALE).expected
    np.testing.assert_allclose([w.values["valence"] for w in np.array(windows)[warm]], valence, atol=1e-5)
    np.testing.assert_allclose([w.values["arousal"] for w in np.array(windows)[warm]], arousal, atol=1e-5)
    assert np.std(valence) > 1e-3 and np.std(arousal) > 1e-3  # the comparison is not of constants


def collect(live, n_windows: int, seconds: float = 30.0) -> list:
    """Up to ``n_windows`` results from a started :class:`~streaming.api.LiveSession`, waiting ``seconds`` at most."""
    results = []
    deadline = time.monotonic() + seconds
    while len(results) < n_windows and time.monotonic() < deadline:
        result = live.get(timeout=0.5)
        if result is not None:
            results.append(result)
    return results


def feed(pipe: OnlinePipeline, data: np.ndarray, stamps: np.ndarray, sizes: np.ndarray | int = 16):
    """Push ``data`` ``(n, n_channels)`` in chunks; all windows and events."""
    windows, events = [], []
    rng_sizes = np.broadcast_to(sizes, (len(data),)) if np.isscalar(sizes) else sizes
    i = k = 0
    while i < len(data):
        n = int(rng_sizes[k])
        step = pipe.process(data[i : i + n], stamps[i : i + n])
        windows += step.windows
        events += step.events
        i, k = i + n, k + 1
    return windows, events


@pytest.mark.parametrize(
    ("sfreq", "cfg"),
    [
        (128.0, CAUSAL),
        (512.0, CAUSAL),
        (256.0, FilterConfig(method="iir", causal=True, line_freq=60.0, l_freq=0.5, h_freq=40.0, iir_order=2)),
        (128.0, FilterConfig(method="iir", causal=True, line_freq=None, l_freq=None, h_freq=30.0)),
    ],
)
def test_chunked_causal_filter_equals_mne_on_the_whole_recording(sfreq, cfg):
    raw = emotiv_raw(seconds=6.0, sfreq=sfreq, seed=3)
    x = raw.get_data()
    offline = raw.copy()
    apply_filters(offline, cfg)
    filt = CausalFilter(design_filters(cfg, sfreq), len(EMOTIV))
    sizes = np.random.default_rng(0).integers(1, 70, size=len(x[0]))
    out, i = [], 0
    for n in sizes:
        if i >= x.shape[1]:
            break
        out.append(filt(x[:, i : i + n]))
        i += n
    online = np.concatenate(out, axis=1)
    np.testing.assert_allclose(online, offline.get_data(), rtol=1e-10, atol=1e-18)
    assert np.abs(online - x).max() > 1e-6  # the filters did something


def test_filter_design_refuses_what_mne_or_causality_cannot_do():
    with pytest.raises(ConfigError, match="causal"):
        design_filters(FilterConfig(method="fir", causal=True), 128.0)
    with pytest.raises(ConfigError, match="causal"):
        design_filters(FilterConfig(method="iir", causal=False), 128.0)
    with pytest.raises(ConfigError, match="one stop band"):
        design_filters(FilterConfig(method="iir", causal=True, h_freq=None), 512.0)
    assert design_filters(None, 128.0).shape == (0, 6)


def test_windows_features_and_predictions_equal_the_offline_pipeline():
    raw = emotiv_raw(seconds=8.0, seed=1)
    model = live_model(hop=0.1)  # 12.8 samples: starts are rounded one by one, as offline
    pipe = OnlinePipeline(model, max_lag=None, keep_signals=True)
    x = raw.get_data().T
    stamps = 50.0 + np.arange(len(x)) / 128.0
    windows, events = feed(pipe, x, stamps, np.random.default_rng(2).integers(1, 40, size=len(x)))
    offline = raw.copy()
    apply_filters(offline, CAUSAL)
    offline.set_eeg_reference("average", projection=False, verbose="error")
    data = offline.get_data()
    t_start = 0.1 * np.arange(len(windows))
    idx = window_indices(t_start, 1.0, 128.0, data.shape[1], "test")
    assert len(windows) == int((8.0 - 1.0) / 0.1 + 1e-9) + 1
    expected = np.moveaxis(data[:, idx], 0, 1)
    got = np.stack([w.signal for w in windows])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    np.testing.assert_allclose([w.t_first for w in windows], stamps[idx[:, 0]], atol=1e-9)
    np.testing.assert_allclose([w.t_last for w in windows], stamps[idx[:, -1]], atol=1e-9)
    # Predictions by the models themselves on the offline windows.
    warm = np.array([w.predicted for w in windows])
    assert not warm[0] and warm[-1] and "filter warm-up" in windows[0].reasons
    assert [e.kind for e in events] == ["bad_window", "quality_restored"]
    assert_offline_predictions(model, windows, expected, warm)
    assert all(np.isnan(w.values["valence"]) for w in np.array(windows)[~warm])


def test_chunk_sizes_do_not_change_the_result():
    raw = emotiv_raw(seconds=5.0, seed=4)
    x = raw.get_data().T
    stamps = np.arange(len(x)) / 128.0
    one, _ = feed(OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None), x, stamps, len(x))
    many, _ = feed(
        OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None), x, stamps,
        np.random.default_rng(5).integers(1, 9, size=len(x)),
    )  # fmt: skip
    assert len(one) == len(many) == 33
    for a, b in zip(one, many, strict=True):
        np.testing.assert_allclose(a.features["de"], b.features["de"], rtol=0, atol=1e-12)
        assert a.t_last == b.t_last


def test_nan_flat_and_huge_values_are_flagged_and_the_filter_recovers():
    raw = emotiv_raw(seconds=16.0, seed=6)
    clean = raw.get_data().T
    bad = clean.copy()
    bad[int(4.0 * 128) : int(4.5 * 128), 2] = np.nan  # F3 drops out
    bad[int(5.0 * 128) : int(5.2 * 128), 5] = np.inf
    bad[:, 7] = 3e-6  # O2 flat (DC only)
    bad[int(8.0 * 128) : int(8.3 * 128), 10] = 1.0  # FC6: a burst of 1 V, out of any amplifier's range
    bad[int(9.0 * 128) : int(9.1 * 128), 11] += 5e-3  # F4: a 5 mV electrode pop, in range
    stamps = np.arange(len(bad)) / 128.0
    model = live_model(kinds=("dgcnn",), reference=None)
    # Persistently bad channels count as bad in the gate here (no interpolation of O2): every window is refused.
    pipe_bad = OnlinePipeline(model, QualityConfig(max_interpolated=0.0), max_lag=None, keep_signals=True)
    pipe_clean = OnlinePipeline(live_model(kinds=("dgcnn",), reference=None), max_lag=None, keep_signals=True)
    got, events = feed(pipe_bad, bad, stamps, 10)
    ref, _ = feed(pipe_clean, clean, stamps, 10)
    assert pipe_bad.stats.invalid_samples == int(0.5 * 128) + int(0.2 * 128) + int(0.3 * 128)
    assert pipe_bad.stats.filter_resets == 3  # one per dropout that ended
    # Every window is flagged: O2 is flat throughout; the reasons name the channels.
    assert not any(w.predicted for w in got)
    assert all(0 < w.quality < 1 for w in got if "filter warm-up" not in w.reasons)
    def flagged(label: str, channel: str, t0: float, t1: float) -> bool:
        return any(r.startswith(label) and channel in r for w in got if t0 < w.t_last < t1 for r in w.reasons)

    assert flagged("invalid samples", "F3", 4.0, 5.5) and flagged("invalid samples", "P7", 5.0, 6.2)
    assert flagged("invalid samples", "FC6", 8.0, 9.3) and not flagged("invalid samples", "FC6", 0, 8.0)
    assert flagged("amplitude", "F4", 9.0, 10.0)
    assert all("flat: O2" in w.reasons for w in got)
    assert events[0].kind == "bad_window"
    for w in got:
        assert np.isfinite(w.signal).all()
    # Channels whose samples were invalid recover: 4 s after the last dropout they are back on the clean output.
    late = [(w, r) for w, r in zip(got, ref, strict=True) if w.t_first > 13.0]
    assert late
    recovered = [EMOTIV.index(ch) for ch in ("F3", "P7", "FC6")]
    for w, r in late:
        np.testing.assert_allclose(w.signal[recovered], r.signal[recovered], atol=0.05e-6)
        assert w.reasons == ("flat: O2",)
    # An in-range artefact is signal to the filter: it rings exactly as in offline causal filtering.
    f4 = EMOTIV.index("F4")
    offline = signal.sosfilt(design_filters(CAUSAL, 128.0), bad[:, f4])
    for w in got:
        start = int(round(w.t_first * 128.0))
        np.testing.assert_allclose(w.signal[f4], offline[start : start + 128], rtol=1e-9, atol=1e-15)


def test_time_stamp_disorder_is_counted_and_discontinuities_restart_the_segment():
    raw = emotiv_raw(seconds=12.0, seed=7)
    x = raw.get_data().T
    period = 1 / 128.0
    stamps = 10.0 + np.arange(len(x)) * period
    stamps[100] = stamps[99]  # duplicate
    stamps[200], stamps[201] = stamps[201], stamps[200]  # swapped
    stamps[5 * 128 :] += 3.0  # 3 s of samples never arrived
    stamps[9 * 128 :] -= 30.0  # the sender's clock jumps back
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None)
    windows, events = feed(pipe, x, stamps, np.random.default_rng(8).integers(1, 30, size=len(x)))
    stats = pipe.stats
    assert stats.duplicate_stamps == 1 and stats.out_of_order_stamps == 1
    assert stats.gaps == 1 and stats.clock_jumps == 1 and stats.segments == 3
    assert [e.kind for e in events if e.kind in ("gap", "clock_jump")] == ["gap", "clock_jump"]
    gap = next(e for e in events if e.kind == "gap")
    assert gap.detail["jump_s"] == pytest.approx(3.0 + period)
    # No window spans a discontinuity: each lies within one segment, 127 periods long.
    for w in windows:
        assert w.t_last - w.t_first == pytest.approx(127 * period, abs=2 * period)
    segments = [w.segment for w in windows]
    assert segments == sorted(segments) and set(segments) == {0, 1, 2}
    # Each segment restarts windows and the filter warm-up.
    firsts = [next(w for w in windows if w.segment == s) for s in (1, 2)]
    assert all("filter warm-up" in w.reasons for w in firsts)
    assert firsts[0].t_first == pytest.approx(stamps[5 * 128])


def test_windows_behind_by_more_than_max_lag_are_skipped_not_computed():
    raw = emotiv_raw(seconds=10.0, seed=9)
    x = raw.get_data().T
    stamps = np.arange(len(x)) / 128.0
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=0.5)
    windows, _ = feed(pipe, x, stamps, len(x))  # a 10-s backlog at once
    assert pipe.stats.skipped_windows + len(windows) == int((10.0 - 1.0) / 0.125) + 1
    assert all(stamps[-1] - w.t_last <= 0.5 for w in windows) and len(windows) == 5


def test_quality_thresholds_are_configurable():
    raw = emotiv_raw(seconds=6.0, seed=10)
    x = raw.get_data().T
    x[:, 3] = 0.0
    stamps = np.arange(len(x)) / 128.0
    strict = OnlinePipeline(live_model(kinds=("dgcnn",)), QualityConfig(max_interpolated=0.0), max_lag=None)
    lenient = OnlinePipeline(live_model(kinds=("dgcnn",)), QualityConfig(min_quality=0.9), max_lag=None)
    a, _ = feed(strict, x, stamps)
    b, _ = feed(lenient, x, stamps)
    assert not any(w.predicted for w in a)
    late = [w for w in b if "filter warm-up" not in w.reasons]
    assert late and all(w.predicted and w.quality == pytest.approx(13 / 14) for w in late)


def test_steady_state_reset_matches_scipy_step_response():
    sos = design_filters(CAUSAL, 128.0)
    filt = CausalFilter(sos, 2)
    filt.settle(np.array([True, False]), np.array([2e-3, 0.0]))
    out = filt(np.full((2, 64), [[2e-3], [0.0]]))
    step = signal.sosfilt(sos, np.full(4000, 2e-3))
    np.testing.assert_allclose(out[0], np.full(64, step[-1]), atol=1e-12)  # steady state: no transient
