"""Peripheral (ECG/EDA) features of each live window against the feature functions on the same samples."""

from __future__ import annotations

import mne
import neurokit2 as nk
import numpy as np
import pytest
import torch

from biosig.config import FeatureConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError, DataError
from biosig.features.eeg import band_power, differential_entropy
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from biosig.features.peripheral_causal import detect_ecg_events_causal, detect_eda_events_causal
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from biosig.preprocess.eeg import apply_filters
from biosig.preprocess.resample import resample_raw_causal
from biosig.preprocess.windows import window_indices
from graphs.models import build_model, predict
from streaming.api import LiveSession
from streaming.model_io import LiveModel, TargetModel
from streaming.online import OnlinePipeline, PeripheralBuffer, trailing_span
from streaming.replay import Replayer
from tests.helpers import EMOTIV
from tests.live.test_stream_online import CAUSAL, SCALE, collect, live_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RATES = {"eeg": 128.0, "ecg": 256.0, "eda": 64.0}


@pytest.fixture(scope="module")
def session():
    return make_session(1, SyntheticConfig(n_trials=1, baseline_seconds=4.0, stimulus_seconds=8.0))


def play(pipe: OnlinePipeline, signals: dict[str, np.ndarray], t0: float, seconds: float, stop: dict | None = None):
    """Feed 1/16-s chunks, peripheral samples before the EEG; ``stop[kind]``: seconds after which it stops."""
    windows = []
    stop = stop or {}
    for k in range(int(seconds * 16)):
        for kind in ("ecg", "eda", "eeg"):
            rate = RATES[kind]
            lo, hi = int(round(k / 16 * rate)), int(round((k + 1) / 16 * rate))
            if kind != "eeg" and (kind not in pipe.peripheral or k / 16 >= stop.get(kind, np.inf)):
                continue
            stamps = t0 + np.arange(lo, hi) / rate
            if kind == "eeg":
                windows += pipe.process(signals["eeg"][lo:hi], stamps).windows
            else:
                pipe.add_peripheral(kind, signals[kind][lo:hi], stamps)
    return windows


def causal_features(kind: str, signal: np.ndarray, rate: float, first: int, n: int) -> np.ndarray:
    """Features of samples ``[first, first + n)`` from the offline causal mode run on the whole ``signal``."""
    names = ECG_FEATURES if kind == "ecg" else EDA_FEATURES
    if kind == "ecg":
        events = detect_ecg_events_causal(signal, rate)
        out = ecg_features_from_beats(events, np.array([first / rate]), np.array([(first + n) / rate]), events.detected)
    else:
        events = detect_eda_events_causal(signal, rate)
        out = eda_features_from_events(events, np.array([first / rate]), np.array([(first + n) / rate]), events.detected)
    return np.array([out.values[name][0] for name in names])


def signals_of(session) -> dict[str, np.ndarray]:
    return {"eeg": session.eeg.get_data().T, "ecg": session.ecg.get_data()[0], "eda": session.eda.get_data()[0]}


def test_each_window_gets_the_features_of_the_trailing_span_ending_at_its_last_stamp(session):
    pipe = OnlinePipeline(
        live_model(kinds=("dgcnn",), hop=0.5), max_lag=None, peripheral={"ecg": 256.0, "eda": 64.0},
        peripheral_seconds=4.0,
    )  # fmt: skip
    t0 = 1000.0
    windows = play(pipe, signals_of(session), t0, session.eeg.n_times / 128.0)
    signals = signals_of(session)
    finite = 0
    for w in windows:
        for kind, names in (("ecg", ECG_FEATURES), ("eda", EDA_FEATURES)):
            rate = RATES[kind]
            # Cut as graphs.training.windows_dataset cuts it offline: [t_end - 4 s, t_end), t_end = t_start + 1 s.
            t_end = w.t_last - t0 + 1.0 / 128.0
            first, n = int(np.round((t_end - 4.0) * rate)), int(round(4.0 * rate))
            got = w.features[kind]
            assert got.shape == (len(names),)
            if first < 0:  # not yet 4 s of samples
                assert np.isnan(got).all() and np.isnan(w.features[f"{kind}_span"]).all()
                continue
            reference = causal_features(kind, signals[kind], rate, first, n)
            # Cumulative sums (of centred RR squares for SDNN) over the whole recording offline, over the held
    # samples live: equal to rounding (about 1e-11 relative for SDNN).
            np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(w.features[f"{kind}_span"], t0 + np.array([first, first + n - 1]) / rate)
            finite += bool(np.isfinite(got).all())
    assert finite >= 20  # most windows after the first 4 s: the comparison is not of NaN with NaN
    hr = np.array([w.features["ecg"][0] for w in windows])
    assert np.nanmin(hr) > 40 and np.nanmax(hr) < 150


def test_a_lost_interrupted_or_restarted_peripheral_stream_gives_nan_without_crashing(session):
    signals = signals_of(session)
    pipe = OnlinePipeline(
        live_model(kinds=("dgcnn",), hop=0.5), max_lag=None, peripheral={"ecg": 256.0, "eda": 64.0},
        peripheral_seconds=3.0,
    )  # fmt: skip
    windows = play(pipe, signals, 50.0, session.eeg.n_times / 128.0, stop={"eda": 6.0})  # the EDA sensor goes at 6 s
    eda_ok = [bool(np.isfinite(w.features["eda"]).all()) for w in windows]
    lost_at = 50.0 + 6.0 + 0.1  # the last sample's nearest-stamp tolerance: gap_tolerance
    assert any(eda_ok) and not any(ok for ok, w in zip(eda_ok, windows, strict=True) if w.t_last > lost_at + 1 / 64)
    assert all(np.isfinite(w.features["ecg_span"]).all() for w in windows if w.t_last > 50.0 + 3.0 + 0.1)

    # A gap inside the span, NaN samples, then the sender's clock jumping back: NaN until a full span has come again.
    stamps = np.arange(20 * 256) / 256.0
    ecg = 1e-3 * nk.ecg_simulate(duration=20, sampling_rate=256, heart_rate=80, method="simple", random_state=0)
    ecg[5 * 256 : 5 * 256 + 10] = np.nan  # at 5.0-5.04 s
    keep = (stamps < 9.0) | (stamps >= 9.5)  # half a second never sent
    buffer = PeripheralBuffer("ecg", 256.0, 3.0, 0.1)
    buffer.add(ecg[keep], stamps[keep] + 100.0)
    values, spans = buffer.features([105.5, 108.5, 110.0, 112.0, 119.9, 125.0])
    assert np.isnan(values[[0, 2, 3, 5]]).all()  # NaN samples, a gap, a gap, beyond the newest sample (lost)
    assert np.isfinite(values[[1, 4]]).all()
    first = round((19.9 - 3.0) * 256)  # the offline cut of [116.9 s, 119.9 s)
    np.testing.assert_allclose(spans[4], 100.0 + np.array([first, first + 767]) / 256.0)
    # The detector saw the samples sent, back to back: the offline causal mode on them, 0.5 s fewer before 9.5 s.
    reference = causal_features("ecg", ecg[keep], 256.0, first - 128, 768)
    np.testing.assert_allclose(values[4], reference, rtol=1e-9, atol=1e-12)
    buffer.add(ecg[:512], 10.0 + stamps[:512])  # a new clock, 90 s back
    assert np.isnan(buffer.features([11.99])[0]).all()  # 2 s of the new clock: not yet full


def test_the_trailing_span_rule():
    stamps = 5.0 + np.arange(2560) / 256.0
    # [t_end - 2 s, t_end) as offline: first sample round((t_end - 2 - 5) * 256), 512 samples.
    assert trailing_span(stamps, 10.0, 2.0, 256.0, 0.1) == slice(768, 1280)
    assert trailing_span(stamps, 10.0 + 0.4 / 256, 2.0, 256.0, 0.1) == slice(768, 1280)
    assert trailing_span(stamps, 10.0 + 0.6 / 256, 2.0, 256.0, 0.1) == slice(769, 1281)
    assert trailing_span(stamps, 6.0, 2.0, 256.0, 0.1) is None  # not yet full
    assert trailing_span(stamps, 15.05, 2.0, 256.0, 0.1) == slice(2560 - 512, 2560)  # lags, within tolerance
    assert trailing_span(stamps, 15.3, 2.0, 256.0, 0.1) is None  # lost


def test_peripheral_settings_are_checked_at_start():
    model = live_model(kinds=("dgcnn",))
    with pytest.raises(ConfigError, match="'emg' is not one of"):
        OnlinePipeline(model, peripheral={"emg": 1000.0})
    with pytest.raises(DataError, match="EDA needs sfreq above 6 Hz"):
        OnlinePipeline(model, peripheral={"eda": 4.0}, peripheral_seconds=30.0)
    with pytest.raises(DataError, match="ECG windows of 51 samples"):
        OnlinePipeline(model, peripheral={"ecg": 256.0}, peripheral_seconds=0.2)
    with pytest.raises(ConfigError, match="no peripheral stream 'ecg'"):
        OnlinePipeline(model).add_peripheral("ecg", np.zeros(3), np.zeros(3))


def test_live_session_resamples_a_256_hz_eeg_stream_and_adds_ecg_and_eda_features():
    config = SyntheticConfig(n_trials=1, baseline_seconds=4.0, stimulus_seconds=5.0, eeg_sfreq=256.0)
    session = make_session(4, config)
    duration = session.eeg.n_times / 256.0
    n_windows = int((duration - 1.0) / 0.25 + 1e-9) + 1
    player = Replayer(session, speed=4.0, prefix="biosig-online-peripheral")
    model = live_model(kinds=("dgcnn",), hop=0.25)  # a 128 Hz model
    live = LiveSession(
        model, "name=biosig-online-peripheral-eeg", ecg="name=biosig-online-peripheral-ecg",
        eda="name=biosig-online-peripheral-eda", peripheral_seconds=3.0, max_lag=None, keep_signals=True,
        queue_size=10_000, outlet=False, buffer_seconds=60.0, resolve_timeout=3.0,
    )  # fmt: skip
    with live:
        assert player.wait_for_consumers(5.0, ("eeg", "ecg", "eda"))
        player.run()
        results = collect(live, n_windows)
        spans = {}
        for kind in ("ecg", "eda"):
            for r in results:
                first, last = r.features[f"{kind}_span"]
                if np.isfinite(first):
                    half = 0.5 / RATES[kind]
                    spans[kind, r.index] = live.signals(f"biosig-online-peripheral-{kind}", first - half, last + half)
        whole = {k: live.signals(f"biosig-online-peripheral-{k}", -np.inf, np.inf) for k in ("ecg", "eda")}
        stats = live.stats()
    assert len(results) == n_windows and stats["gaps"] == stats["dropped"] == 0

    # EEG: sent as float32 microvolts at 256 Hz; offline: filters at 256 Hz, reference, causal resampling to 128 Hz.
    sent = (session.eeg.get_data() * 1e6).astype(np.float32).astype(np.float64) * 1e-6
    offline = mne.io.RawArray(sent, session.eeg.info, verbose="error")
    apply_filters(offline, CAUSAL)
    offline.set_eeg_reference("average", projection=False, verbose="error")
    data = resample_raw_causal(offline, 128.0).get_data()
    t0 = results[0].t_first
    np.testing.assert_allclose([r.t_first - t0 for r in results], 0.25 * np.arange(n_windows), atol=1e-4)
    idx = window_indices(0.25 * np.arange(n_windows), 1.0, 128.0, data.shape[1], "offline")
    expected = np.moveaxis(data[:, idx], 0, 1)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(np.stack([r.signal for r in results]), expected, rtol=1e-5, atol=1e-5 * scale)

    # ECG/EDA: each feature vector is the offline causal mode's on the stream as sent, over the span's samples.
    # Windows after the first 3 s have spans unless a stream lagged the EEG by more than gap_tolerance
    # (0.1 s of recording, 25 ms at this speed) when the window was computed.
    for kind in ("ecg", "eda"):
        assert sum(k == kind for k, _ in spans) >= n_windows // 4
    for (kind, index), (samples, stamps) in spans.items():
        rate = RATES[kind]
        assert len(samples) == int(3.0 * rate)
        t_end = results[index].t_last + 1.0 / 128.0  # the window ends one (model-rate) sample after its last
        assert t_end - 1.5 / rate - 0.1 <= stamps[-1] <= t_end - 0.5 / rate + 1e-9
        first = int(np.searchsorted(whole[kind][1], stamps[0]))
        np.testing.assert_array_equal(whole[kind][0][first : first + len(samples)], samples)
        reference = causal_features(kind, whole[kind][0][:, 0], rate, first, len(samples))
        np.testing.assert_allclose(results[index].features[kind], reference, rtol=1e-9, atol=1e-12)
    assert any(np.isfinite(results[i].features["ecg"]).all() for _, i in spans)


def test_a_model_with_peripheral_nodes_is_fed_the_window_features(session):
    base = live_model(kinds=("dgcnn",), hop=0.5)
    model = build_model("dgcnn", n_outputs=5, n_channels=len(EMOTIV), seed=1, peripheral={"ecg": 4, "eda": 3})
    live = LiveModel(base.spec, [TargetModel(model, ("arousal",), SCALE, "dgcnn+peripheral")])
    with pytest.raises(ConfigError, match=r"peripheral node 'ecg' of 4 features; the pipeline reads \[\]"):
        OnlinePipeline(live, max_lag=None)
    pipe = OnlinePipeline(
        live, max_lag=None, keep_signals=True, peripheral={"ecg": 256.0, "eda": 64.0}, peripheral_seconds=4.0
    )
    windows = [w for w in play(pipe, signals_of(session), 0.0, session.eeg.n_times / 128.0) if w.predicted]
    assert len(windows) > 5
    x = np.stack([w.signal for w in windows]) / 1e-5
    de = torch.tensor(differential_entropy(band_power(x, 128.0, dict(FeatureConfig().bands))), dtype=torch.float32)
    columns = np.stack([np.concatenate([w.features["ecg"], w.features["eda"]]) for w in windows])
    expected = predict(model, (de, torch.tensor(columns, dtype=torch.float32)), SCALE).expected
    np.testing.assert_allclose([w.values["arousal"] for w in windows], expected, atol=1e-5)
    # The features reach the output: without them (NaN: absent nodes) it differs where they are finite.
    eeg_only = predict(model, (de, torch.full(columns.shape, torch.nan)), SCALE).expected
    finite = np.isfinite(columns).all(axis=1)
    assert finite.any() and np.abs(expected[finite] - eeg_only[finite]).max() > 1e-4
