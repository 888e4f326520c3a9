import mne
import numpy as np
import pytest
from scipy import signal

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.errors import DataError
from biosig.preprocess.eeg import PreprocessLog, apply_filters, detect_bad_channels, preprocess_eeg
from tests.helpers import EMOTIV, emotiv_raw


def _psd_at(x, sfreq, freq):
    f, p = signal.welch(x, fs=sfreq, nperseg=int(4 * sfreq))
    return p[..., np.argmin(np.abs(f - freq))]


def test_notch_removes_line_noise_and_keeps_alpha():
    raw = emotiv_raw(seed=1)
    t = raw.times
    raw._data += 5e-6 * np.sin(2 * np.pi * 50 * t)
    before = raw.get_data()
    apply_filters(raw, FilterConfig())
    after = raw.get_data()
    sf = raw.info["sfreq"]
    drop_50 = 10 * np.log10(_psd_at(after, sf, 50) / _psd_at(before, sf, 50))
    change_10 = 10 * np.log10(_psd_at(after, sf, 10) / _psd_at(before, sf, 10))
    assert (drop_50 < -20).all()
    assert (np.abs(change_10) < 1).all()


def test_causal_iir_equals_scipy_forward_butterworth():
    raw = emotiv_raw(seed=2)
    x = raw.get_data()
    cfg = FilterConfig(line_freq=None, l_freq=1.0, h_freq=40.0, method="iir", iir_order=4, causal=True)
    apply_filters(raw, cfg)
    sos = signal.butter(4, [1.0, 40.0], btype="bandpass", fs=raw.info["sfreq"], output="sos")
    np.testing.assert_allclose(raw.get_data(), signal.sosfilt(sos, x, axis=-1), rtol=1e-9, atol=1e-15)


def test_bad_channels_flat_noisy_and_nan_are_found_and_interpolated():
    raw = emotiv_raw(seed=3)
    idx = {ch: i for i, ch in enumerate(EMOTIV)}
    raw._data[idx["O1"]] = 0.0
    raw._data[idx["T8"]] *= 30
    raw._data[idx["P7"], 100:110] = np.nan
    out, log = preprocess_eeg(raw, PreprocessConfig(), label="test")
    assert set(log.bad_channels) == {"O1", "T8", "P7"}
    assert log.bad_channels["O1"].startswith("flat")
    assert log.bad_channels["T8"].startswith("noisy")
    assert "non-finite" in log.bad_channels["P7"]
    data = out.get_data()
    assert np.isfinite(data).all()
    assert out.info["bads"] == []
    stds = data.std(axis=1)
    assert stds[idx["O1"]] > 0.2 * np.median(stds)
    assert stds[idx["T8"]] < 3 * np.median(stds)
    np.testing.assert_allclose(data.mean(axis=0), 0, atol=1e-12)  # average reference
    assert np.isnan(raw._data[idx["P7"], 100:110]).all(), "the input recording is left untouched"


def test_clean_recording_has_no_bad_channel():
    log = PreprocessLog()
    raw = emotiv_raw(seed=4)
    assert detect_bad_channels(raw, BadChannelConfig(), log) == []


def test_interpolation_matches_mne_on_the_same_bads():
    raw = emotiv_raw(seed=5)
    raw._data[6] = 0.0
    cfg = PreprocessConfig(filter=FilterConfig(line_freq=None, l_freq=None, h_freq=None), reference=None)
    out, _ = preprocess_eeg(raw, cfg)
    ref = raw.copy()
    ref.info["bads"] = ["O1"]
    ref.interpolate_bads(reset_bads=True, verbose="error")
    np.testing.assert_allclose(out.get_data(), ref.get_data(), rtol=1e-10, atol=1e-18)


def test_errors_name_channel_and_frequency():
    raw = emotiv_raw()
    with pytest.raises(DataError, match=r"EEG channels \['Cz'\] are missing"):
        preprocess_eeg(raw, PreprocessConfig(channels=("AF3", "Cz")), label="subject S09")
    with pytest.raises(DataError, match="h_freq = 70.0 Hz is not below the Nyquist frequency 64.0 Hz"):
        preprocess_eeg(raw, PreprocessConfig(filter=FilterConfig(h_freq=70.0)), label="subject S09")
    bad = raw.copy()
    bad._data[:6] = 0.0
    with pytest.raises(DataError, match="6 of 14 EEG channels are bad"):
        preprocess_eeg(bad, PreprocessConfig(), label="subject S09")
    no_eeg = mne.io.RawArray(np.zeros((1, 1000)), mne.create_info(["ECG"], 128.0, "ecg"), verbose="error")
    with pytest.raises(DataError, match="no EEG channels"):
        preprocess_eeg(no_eeg, PreprocessConfig())


def test_resample_and_channel_order():
    raw = emotiv_raw()
    out, _ = preprocess_eeg(raw, PreprocessConfig(channels=("F4", "F3", "O1"), resample_sfreq=100.0))
    assert out.ch_names == ["F4", "F3", "O1"]
    assert out.info["sfreq"] == 100.0


def test_ica_removes_blinks_from_frontal_channels():
    raw = emotiv_raw(seconds=120, seed=6)
    sf = raw.info["sfreq"]
    blink = np.zeros(raw.n_times)
    rng = np.random.default_rng(0)
    shape = signal.windows.hann(int(0.3 * sf))
    for onset in rng.choice(raw.n_times - len(shape), size=30, replace=False):
        blink[onset:onset + len(shape)] += shape
    weights = np.array([1.0 if ch.startswith("AF") else 0.5 if ch in ("F7", "F8", "F3", "F4") else 0.0 for ch in EMOTIV])
    raw._data += 150e-6 * weights[:, None] * blink[None, :]
    cfg_off = PreprocessConfig(filter=FilterConfig(line_freq=None), bad_channels=BadChannelConfig(enabled=False))
    cfg_on = cfg_off.model_copy(update={"ica": IcaConfig(enabled=True, seed=0)})
    without, _ = preprocess_eeg(raw, cfg_off)
    cleaned, log = preprocess_eeg(raw, cfg_on)
    assert log.ica_excluded, "a blink component should be found"
    af3 = EMOTIV.index("AF3")
    corr_before = np.corrcoef(without.get_data()[af3], blink)[0, 1]
    corr_after = np.corrcoef(cleaned.get_data()[af3], blink)[0, 1]
    assert corr_before > 0.5 and abs(corr_after) < 0.5 * corr_before


def test_acquisition_gap_is_not_a_bad_channel():
    raw = emotiv_raw(seed=7)
    raw._data[:, 1280:1408] = np.nan  # a 1-s gap on every channel, as XDF readers leave it
    raw.set_annotations(mne.Annotations([10.0], [1.0], ["BAD_ACQ_SKIP"]))
    out, log = preprocess_eeg(raw, PreprocessConfig(), label="gap")
    assert log.bad_channels == {}
    assert np.isfinite(out.get_data()).all()
    raw._data[3, 5000] = np.nan  # outside the gap it still marks the channel
    _, log = preprocess_eeg(raw, PreprocessConfig(), label="gap")
    assert log.bad_channels == {"FC5": "1 non-finite samples"}
