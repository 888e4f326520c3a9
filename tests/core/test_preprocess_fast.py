"""The cheaper EEG preprocessing equals the MNE/numpy calls it replaced (:mod:`biosig.preprocess.fir`, the exact
percentiles of :mod:`biosig.preprocess.bad_channels`, one copy in ``preprocess_eeg``).

The references are computed here with plain MNE and numpy calls: ``Raw.notch_filter`` + ``Raw.filter`` (zero-phase
FIR, firwin), ``np.percentile``, ``Raw.copy().pick().reorder_channels()``. Stated tolerance: the largest absolute
difference is below 1e-10 of the reference's standard deviation (floating-point rounding of two FFT orders; observed
about 1e-14); percentiles and channel selection are bit for bit.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest

from biosig.config import BadChannelConfig, FilterConfig, PreprocessConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.io import read_session
from biosig.preprocess.bad_channels import percentiles_in_place
from biosig.preprocess.eeg import apply_filters, preprocess_eeg
from tests.helpers import EMOTIV, emotiv_raw

TOLERANCE = 1e-10  # of the reference's standard deviation


def mne_filtered(raw: mne.io.BaseRaw, cfg: FilterConfig) -> mne.io.BaseRaw:
    """The former path: MNE's notch (line frequency and harmonics below h_freq + line/2) then band-pass."""
    out = raw.copy()
    nyquist = raw.info["sfreq"] / 2
    freqs = np.arange(cfg.line_freq, min(nyquist, cfg.h_freq + cfg.line_freq / 2), cfg.line_freq)
    freqs = freqs[freqs < nyquist - 1.0]
    kwargs = {"picks": "eeg", "method": "fir", "phase": "zero", "fir_design": "firwin", "verbose": "error"}
    if freqs.size:
        out.notch_filter(freqs, **kwargs)
    out.filter(cfg.l_freq, cfg.h_freq, **kwargs)
    return out


def assert_filtered_like_mne(raw: mne.io.BaseRaw, cfg: FilterConfig) -> None:
    reference = mne_filtered(raw, cfg)
    fast = raw.copy()
    apply_filters(fast, cfg)
    expected = reference.get_data()
    assert np.abs(fast.get_data() - expected).max() < TOLERANCE * expected.std()
    assert (fast.info["highpass"], fast.info["lowpass"]) == (reference.info["highpass"], reference.info["lowpass"])


@pytest.fixture(scope="module")
def eegmat(shared_data) -> mne.io.BaseRaw:
    """physionet-eegmat Subject00_1: 19 EEG channels at 500 Hz, 182 s, montage set."""
    return read_session(shared_data / "physionet-eegmat" / "Subject00_1.edf").eeg.load_data()


def test_fir_equals_mne_on_the_synthetic_cohort():
    """14 ch at 128 Hz, 4 trials of 20 s with baselines (notch at 50 Hz, 1-45 Hz band-pass)."""
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=4, stimulus_seconds=20.0))
    assert_filtered_like_mne(session.eeg.load_data(), FilterConfig())


def test_fir_equals_mne_on_real_eeg(eegmat):
    """500 Hz: notch at 50 Hz, and 100 Hz too with a 4-80 Hz band."""
    assert_filtered_like_mne(eegmat, FilterConfig())
    assert_filtered_like_mne(eegmat, FilterConfig(l_freq=4.0, h_freq=80.0))


def test_fir_equals_mne_per_segment_and_on_short_segments():
    """Segments split at BAD_ACQ_SKIP and edge annotations are filtered apart, as MNE does; a 3-s segment, shorter
    than the notch and band-pass kernels together, is filtered by the two kernels in turn."""
    raw = emotiv_raw(seconds=60.0, seed=3)
    raw.set_annotations(mne.Annotations([20.0, 45.0], [2.0, 0.0], ["BAD_ACQ_SKIP", "edge"]))
    assert_filtered_like_mne(raw, FilterConfig())
    short = emotiv_raw(seconds=3.0, seed=4)
    assert_filtered_like_mne(short, FilterConfig())


def test_percentiles_are_numpys_bit_for_bit(eegmat):
    data = eegmat.get_data()
    expected = np.percentile(data, [75, 25], axis=1)
    assert np.array_equal(percentiles_in_place(data.copy(), (75.0, 25.0)), expected)
    odd = data[:, :1001]  # a virtual index on a sample and one between samples
    expected_odd = np.percentile(odd, [50, 10, 99.9], axis=1)
    assert np.array_equal(percentiles_in_place(odd.copy(), (50.0, 10.0, 99.9)), expected_odd)


def test_one_copy_picks_and_orders_channels_as_mne():
    """EEG picked out of EEG + ECG in a new order equals ``copy().pick().reorder_channels()``; the input is kept."""
    raw = emotiv_raw(seconds=20.0, seed=5)
    raw.add_channels([mne.io.RawArray(np.ones((1, raw.n_times)), mne.create_info(["ECG"], raw.info["sfreq"], "ecg"))])
    before = raw.get_data()
    wanted = tuple(reversed(EMOTIV))
    no_filter = FilterConfig(line_freq=None, l_freq=None, h_freq=None)
    no_bads = BadChannelConfig(enabled=False)
    cfg = PreprocessConfig(channels=wanted, filter=no_filter, bad_channels=no_bads, reference=None)
    out, _log = preprocess_eeg(raw, cfg)
    reference = raw.copy().pick(list(wanted)).reorder_channels(list(wanted))
    assert out.ch_names == list(wanted) and np.array_equal(out.get_data(), reference.get_data())
    assert np.array_equal(raw.get_data(), before)


def test_preprocess_equals_the_former_mne_chain(eegmat):
    """The whole default path on real EEG against the MNE chain it replaced: pick, notch + band-pass,
    ``np.percentile`` amplitudes (none bad here), average reference."""
    out, log = preprocess_eeg(eegmat, PreprocessConfig())
    reference = mne_filtered(eegmat.copy().pick("eeg"), FilterConfig())
    q75, q25 = np.percentile(reference.get_data(), [75, 25], axis=1)
    amplitude = np.log((q75 - q25) / 1.349)
    z = (amplitude - np.median(amplitude)) / (1.4826 * np.median(np.abs(amplitude - np.median(amplitude))))
    assert not log.bad_channels and (z <= 5.0).all()
    reference.set_eeg_reference("average", projection=False, verbose="error")
    expected = reference.get_data()
    assert np.abs(out.get_data() - expected).max() < TOLERANCE * expected.std()
