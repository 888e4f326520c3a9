"""Parity: a session replayed over LSL gives the offline pipeline's windows, features and predictions."""

from __future__ import annotations

import json
import time

import mne
import numpy as np
import pylsl
import pytest
import torch

from biosig.config import FeatureConfig, FilterConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.features.eeg import band_power, differential_entropy, frontal_asymmetry
from biosig.preprocess.eeg import apply_filters
from biosig.preprocess.windows import slice_windows
from graphs.models import predict
from streaming.api import LiveSession
from streaming.outlet import AFFECT_CHANNELS
from streaming.replay import Replayer
from tests.live.test_stream_online import SCALE, collect, live_model

CAUSAL = FilterConfig(method="iir", causal=True)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def open_inlet(name: str, timeout: float = 3.0) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("name", name, timeout=timeout)
    assert len(found) == 1, f"stream {name} not found"
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=timeout)
    return inlet


def pull_all(inlet: pylsl.StreamInlet, n: int, timeout: float = 5.0, numeric: bool = True):
    """At least ``n`` samples (waits with a deadline), then whatever else is there."""
    values, stamps = [], []
    deadline = time.monotonic() + timeout
    while len(stamps) < n and time.monotonic() < deadline:
        data, ts = inlet.pull_chunk(timeout=0.2, max_samples=1024, as_numpy=numeric)
        values += list(data)
        stamps += list(ts)
    return values, np.asarray(stamps)


def offline_reference(raw: mne.io.BaseRaw, n_windows: int, hop: float) -> dict[str, np.ndarray]:
    """The offline pipeline with causal filtering on ``raw``: windows, band power, DE, FAA."""
    raw = raw.copy().load_data()
    apply_filters(raw, CAUSAL)
    raw.set_eeg_reference("average", projection=False, verbose="error")
    windows = slice_windows(raw, hop * np.arange(n_windows), 1.0, "offline")
    bands = dict(FeatureConfig().bands)
    power = band_power(windows, raw.info["sfreq"], bands)
    faa = frontal_asymmetry(power, raw.ch_names, list(bands).index("alpha"), FeatureConfig().asymmetry_pairs)
    return {"windows": windows, "band_power": power, "de": differential_entropy(power), "faa": faa}


def test_replay_over_lsl_matches_the_offline_pipeline():
    session = make_session(2, SyntheticConfig(n_trials=1, baseline_seconds=10.0, stimulus_seconds=12.0))
    assert not session.info["bad_channels"]
    duration = session.eeg.n_times / session.eeg.info["sfreq"]
    n_windows = int((duration - 1.0) / 0.125 + 1e-9) + 1
    player = Replayer(session, speed=12.0, prefix="biosig-parity")
    model = live_model(channels=tuple(session.eeg.ch_names))
    live = LiveSession(
        model, "name=biosig-parity-eeg", ["name=biosig-parity-ecg"], max_lag=None, keep_signals=True,
        queue_size=10_000, outlet_name="biosig-affect-parity", source_id="parity", buffer_seconds=60.0,
        resolve_timeout=3.0,
    )  # fmt: skip
    with live:
        affect = open_inlet("biosig-affect-parity")
        markers = open_inlet("biosig-affect-parity-markers")
        assert player.wait_for_consumers(5.0)
        player.run()
        results = collect(live, n_windows)
        assert len(results) == n_windows
        # The ECG, read alongside at 256 Hz, over the last window's span.
        last = results[-1]
        half = 0.5 / 256.0  # span edges between ECG samples, so that none sits on an edge
        ecg, ecg_stamps = live.signals("biosig-parity-ecg", last.t_first - half, last.t_first + 1.0 - half)
        published, stamps = pull_all(affect, n_windows)
        marks, _ = pull_all(markers, 2, numeric=False)
        stats = live.stats()

    assert stats["gaps"] == stats["clock_jumps"] == stats["dropped"] == stats["skipped_windows"] == 0
    assert [r.index for r in results] == list(range(n_windows)) and {r.segment for r in results} == {0}
    t0 = results[0].t_first

    # What went over the wire: float32 microvolts.
    sent = (session.eeg.get_data() * 1e6).astype(np.float32).astype(np.float64) * 1e-6
    ref = offline_reference(mne.io.RawArray(sent, session.eeg.info, verbose="error"), n_windows, 0.125)
    np.testing.assert_allclose([r.t_first - t0 for r in results], 0.125 * np.arange(n_windows), atol=1e-6)
    scale = np.abs(ref["windows"]).max()
    np.testing.assert_allclose(np.stack([r.signal for r in results]), ref["windows"], rtol=1e-5, atol=1e-5 * scale)
    warm = np.array([r.predicted for r in results])
    assert not warm[:8].any() and warm[-100:].all()  # about 2.3 s of filter warm-up, then predictions
    for name in ("band_power", "de", "faa"):
        got = np.stack([r.features[name] for r in results])
        np.testing.assert_allclose(got[warm], ref[name][warm], rtol=1e-5, atol=1e-5 * np.abs(ref[name]).max())

    x = ref["windows"][warm] / 1e-5
    valence = predict(model.models[0].model, torch.tensor(x, dtype=torch.float32), SCALE)
    de = differential_entropy(band_power(x, 128.0, dict(FeatureConfig().bands)))
    arousal = predict(model.models[1].model, torch.tensor(de, dtype=torch.float32), SCALE)
    online = {k: np.array([r.values[k] for r in results])[warm] for k in AFFECT_CHANNELS[:4]}
    np.testing.assert_allclose(online["valence"], valence.expected, atol=1e-5)
    np.testing.assert_allclose(online["arousal"], arousal.expected, atol=1e-5)
    np.testing.assert_allclose(online["valence_confidence"], valence.probabilities.max(axis=1), atol=1e-5)
    np.testing.assert_allclose(online["arousal_confidence"], arousal.probabilities.max(axis=1), atol=1e-5)
    assert valence.expected.std() > 1e-3 and arousal.expected.std() > 1e-3

    # The affect stream carries the same numbers, stamped with each window's last sample.
    assert len(published) == n_windows
    np.testing.assert_allclose(stamps, [r.t_last for r in results], atol=1e-6)
    rows = np.array([[*(r.values[k] for k in AFFECT_CHANNELS[:4]), r.quality] for r in results], dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(published, dtype=np.float32), rows)
    events = [json.loads(m[0])["event"] for m in marks]
    assert events[:2] == ["bad_window", "quality_restored"]

    # The ECG over the window's second, at its own rate, is what was sent.
    # liblsl's dejittered stamps follow a fitted slope (within 1e-4 of the rate): 20 s into the
    # session an edge may move by a sample under load, so the span is checked to one sample.
    first = int(round((ecg_stamps[0] - t0) * 256.0))
    assert abs(len(ecg) - 256) <= 1 and abs(first - (last.t_first - t0) * 256.0) <= 1.0
    np.testing.assert_allclose(np.diff(ecg_stamps), 1 / 256.0, rtol=1e-4)
    sent_ecg = (session.ecg.get_data()[:, first : first + len(ecg)] * 1e6).astype(np.float32).astype(np.float64) * 1e-6
    np.testing.assert_allclose(ecg.T, sent_ecg, rtol=1e-12, atol=0)
