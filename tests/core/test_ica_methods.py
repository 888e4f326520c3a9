"""ICA methods (extended infomax) and classifiers (frontal proxy, ICLabel) of :mod:`biosig.preprocess.ica`."""

from __future__ import annotations

import sys

import mne
import pytest
from pydantic import ValidationError

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.optional import MissingExtraError
from biosig.preprocess.eeg import preprocess_eeg
from biosig.preprocess.ica import fit_blink_ica


@pytest.fixture(scope="module")
def clean_raw() -> mne.io.BaseRaw:
    """One synthetic subject (121 s, 14 ch, 128 Hz, blinks) band-passed 1-45 Hz at the average reference."""
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=1, bad_channel_probability=0.0))
    cfg = PreprocessConfig(filter=FilterConfig(), bad_channels=BadChannelConfig(enabled=False))
    raw, _log = preprocess_eeg(session.eeg, cfg, "S01")
    return raw


def test_config_validation():
    assert IcaConfig().classifier == "frontal_proxy"
    assert IcaConfig(method="infomax_extended", classifier="iclabel").iclabel_threshold == 0.8
    with pytest.raises(ValidationError, match="classifier"):
        IcaConfig(classifier="adjust")
    with pytest.raises(ValidationError, match="iclabel_threshold"):
        IcaConfig(iclabel_threshold=1.0)


def test_extended_infomax_and_iclabel(clean_raw):
    """Extended infomax is MNE's infomax with extended=True; ICLabel removes at least one component of the
    synthetic subject (component 0 at seed 0; the frontal-proxy classifier at threshold 3 removes none of
    this unconverged 500-iteration decomposition)."""
    ica = fit_blink_ica(clean_raw, IcaConfig(method="infomax_extended", classifier="iclabel", seed=0), "S01")
    assert ica.method == "infomax" and ica.fit_params["extended"] is True
    assert ica.exclude


def test_missing_icalabel_names_the_extra(clean_raw, monkeypatch):
    monkeypatch.setitem(sys.modules, "mne_icalabel", None)
    with pytest.raises(MissingExtraError, match=r"biosig-affect\[cleaning\]"):
        fit_blink_ica(clean_raw, IcaConfig(classifier="iclabel"), "S01")
