"""Offline resampling: causal (the live pipeline's) when the filters are causal, MNE's otherwise."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from scipy import signal

from biosig.config import BadChannelConfig, FilterConfig, PreprocessConfig
from biosig.errors import DataError
from biosig.preprocess.eeg import apply_filters, bad_annotation_mask, preprocess_eeg
from biosig.preprocess.windows import window_indices
from streaming.online import OnlinePipeline
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_online import CAUSAL, feed, live_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CAUSAL_128 = PreprocessConfig(channels=EMOTIV, filter=CAUSAL, reference="average", resample_sfreq=128.0)


def test_causal_offline_resampling_equals_the_live_pipeline_and_scipy():
    raw = emotiv_raw(seconds=6.0, sfreq=256.0, seed=31)
    offline, log = preprocess_eeg(raw, CAUSAL_128, "S31")
    assert log.bad_channels == {}
    assert offline.info["sfreq"] == 128.0 and offline.ch_names == list(EMOTIV)
    data = offline.get_data()
    assert data.shape == (len(EMOTIV), 6 * 128)
    tol = 1e-6 * np.abs(data).max()

    # Live: the online pipeline fed the same samples in irregular chunks.
    pipe = OnlinePipeline(live_model(hop=0.5, kinds=("dgcnn",)), max_lag=None, keep_signals=True, stream_sfreq=256.0)
    x = raw.get_data().T
    windows, _ = feed(pipe, x, np.arange(len(x)) / 256.0, np.random.default_rng(3).integers(1, 60, size=len(x)))
    assert len(windows) == 11
    idx = window_indices(0.5 * np.arange(len(windows)), 1.0, 128.0, data.shape[1], "S31")
    live = np.stack([w.signal for w in windows])
    np.testing.assert_allclose(data[:, idx].transpose(1, 0, 2), live, rtol=0, atol=tol)

    # Independent: MNE's causal filters, the average reference, then SciPy's resample_poly on the
    # input preceded by its filter's half length (20 samples for 256 -> 128 Hz) of zeros: resample_poly
    # compensates that delay by looking ahead, the zeros make it see only the past.
    filtered = raw.copy()
    apply_filters(filtered, CAUSAL)
    ref = filtered.get_data()
    ref = ref - ref.mean(axis=0)
    padded = np.concatenate([np.zeros((len(EMOTIV), 20)), ref], axis=1)
    expected = signal.resample_poly(padded, 1, 2, axis=1)[:, : data.shape[1]]
    np.testing.assert_allclose(data, expected, rtol=0, atol=tol)

    # MNE's zero-phase resampling of the same filtered data differs far beyond the tolerance.
    mne_resampled = filtered.copy().set_eeg_reference("average", projection=False, verbose="error")
    mne_resampled.resample(128.0, verbose="error")
    assert np.abs(mne_resampled.get_data() - data).max() > 1e3 * tol


@pytest.mark.parametrize("filt", [FilterConfig(), FilterConfig(method="iir", causal=False)])
def test_zero_phase_filters_keep_mne_resampling(filt):
    raw = emotiv_raw(seconds=6.0, sfreq=256.0, seed=32)
    config = CAUSAL_128.model_copy(update={"filter": filt})
    offline, _ = preprocess_eeg(raw, config, "S32")
    expected = raw.copy()
    apply_filters(expected, filt)
    expected.set_eeg_reference("average", projection=False, verbose="error")
    expected.resample(128.0, verbose="error")
    assert offline.info["sfreq"] == 128.0
    reference = expected.get_data()
    np.testing.assert_allclose(offline.get_data(), reference, rtol=0, atol=1e-12 * np.abs(reference).max())


def test_causal_resampling_keeps_montage_bads_and_annotations_on_the_session_clock():
    raw = emotiv_raw(seconds=6.0, sfreq=256.0, seed=33)
    raw._data[EMOTIV.index("T7")] = 0.0
    raw.set_annotations(mne.Annotations([2.0], [0.5], ["BAD_ACQ_SKIP"]))
    config = CAUSAL_128.model_copy(update={"bad_channels": BadChannelConfig(interpolate=False)})
    offline, log = preprocess_eeg(raw, config, "S33")
    assert "T7" in log.bad_channels and offline.info["bads"] == ["T7"]
    assert offline.get_montage() is not None
    np.testing.assert_allclose(
        offline.get_montage().get_positions()["ch_pos"]["F3"], raw.get_montage().get_positions()["ch_pos"]["F3"]
    )
    mask = bad_annotation_mask(offline)
    assert np.flatnonzero(mask).min() == 2 * 128 and np.flatnonzero(mask).max() == int(2.5 * 128) - 1


def test_a_causal_rate_ratio_without_small_factors_names_the_recording_and_setting():
    raw = emotiv_raw(seconds=2.0, sfreq=256.0, seed=34)
    config = CAUSAL_128.model_copy(update={"resample_sfreq": 127.99})
    with pytest.raises(DataError, match=r"S34: preprocess.resample_sfreq = 127.99 Hz .*cannot resample 256 Hz"):
        preprocess_eeg(raw, config, "S34")
