"""The bad-channel detectors of ``preprocess.bad_channels.method`` (:mod:`biosig.preprocess.bad_channels`)."""

from __future__ import annotations

import sys

import mne
import numpy as np
import pytest
from pydantic import ValidationError

from biosig.config import BadChannelConfig, FilterConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.optional import MissingExtraError
from biosig.preprocess.bad_channels import pyprep_bads
from biosig.preprocess.eeg import PreprocessLog, apply_filters, detect_bad_channels

METHODS = ("robust_amplitude", "lof", "pyprep")


@pytest.fixture(scope="module")
def synthetic_raw() -> mne.io.BaseRaw:
    """One clean synthetic subject (one trial, 121 s, 14 ch at 128 Hz), band-passed."""
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=1, bad_channel_probability=0.0))
    raw = session.eeg.copy().load_data()
    apply_filters(raw, FilterConfig())
    return raw


@pytest.fixture(scope="module")
def eegmat_raw(shared_data) -> mne.io.BaseRaw:
    """60 s of physionet-eegmat Subject00_1's 19 EEG channels, band-passed."""
    raw = mne.io.read_raw_edf(shared_data / "physionet-eegmat" / "Subject00_1.edf", verbose="error")
    raw.crop(0, 60).load_data()
    raw.pick([ch for ch in raw.ch_names if ch.startswith("EEG ") and "A2-A1" not in ch])
    raw.rename_channels(lambda ch: ch.removeprefix("EEG "))
    apply_filters(raw, FilterConfig())
    return raw


def _with_bad(raw: mne.io.BaseRaw, channel: str, kind: str) -> mne.io.BaseRaw:
    out = raw.copy()
    idx = out.ch_names.index(channel)
    noise = np.random.default_rng(1).standard_normal(out.n_times)
    out._data[idx] = 20e-9 * noise if kind == "flat" else out._data[idx] + 120e-6 * noise
    return out


@pytest.mark.parametrize("method", METHODS)
def test_each_method_runs_on_real_eeg_and_logs_reasons(eegmat_raw, method):
    raw = eegmat_raw.copy()
    log = PreprocessLog()
    bads = detect_bad_channels(raw, BadChannelConfig(method=method), log)
    assert set(bads) == set(log.bad_channels) <= set(raw.ch_names)
    assert all(isinstance(why, str) and why for why in log.bad_channels.values())
    if method != "pyprep":  # the table of docs/cleaning.rst: ours and LOF flag none of the eegmat channels
        assert bads == []


@pytest.mark.parametrize("method", ("robust_amplitude", "pyprep"))
def test_flat_channel_is_flagged(synthetic_raw, method):
    raw = _with_bad(synthetic_raw, "O1", "flat")
    log = PreprocessLog()
    assert "O1" in detect_bad_channels(raw, BadChannelConfig(method=method), log)
    assert log.bad_channels["O1"]


@pytest.mark.parametrize("method", METHODS)
def test_noisy_channel_is_flagged(synthetic_raw, method):
    raw = _with_bad(synthetic_raw, "P7", "noisy")
    log = PreprocessLog()
    assert "P7" in detect_bad_channels(raw, BadChannelConfig(method=method), log)
    assert "P7" in raw.info["bads"]


def test_lof_does_not_see_a_flat_channel(synthetic_raw):
    """LOF scores distances between channel time series; a flat channel is no farther from the others than
    they are from each other, so it is not an outlier (why robust_amplitude stays the default)."""
    raw = _with_bad(synthetic_raw, "O1", "flat")
    assert "O1" not in detect_bad_channels(raw, BadChannelConfig(method="lof"), PreprocessLog())


def test_config_validation():
    assert BadChannelConfig().method == "robust_amplitude"
    with pytest.raises(ValidationError, match="method"):
        BadChannelConfig(method="ransac")
    with pytest.raises(ValidationError, match="lof_threshold"):
        BadChannelConfig(lof_threshold=1.0)
    with pytest.raises(ValidationError, match="lof_n_neighbors"):
        BadChannelConfig(lof_n_neighbors=0)


def test_missing_pyprep_names_the_extra(synthetic_raw, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyprep", None)
    with pytest.raises(MissingExtraError, match=r"biosig-affect\[cleaning\]"):
        pyprep_bads(synthetic_raw, BadChannelConfig(method="pyprep"))
