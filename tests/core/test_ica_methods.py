"""ICA methods (extended infomax) and classifiers (frontal proxy, ICLabel) of :mod:`biosig.preprocess.ica`."""

from __future__ import annotations

import sys

import mne
import numpy as np
import pytest
from pydantic import ValidationError

from biosig.config import BadChannelConfig, FilterConfig, IcaConfig, PreprocessConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.optional import MissingExtraError
from biosig.preprocess.eeg import preprocess_eeg
from biosig.preprocess.ica import fit_blink_ica

FRONTAL = ["AF3", "AF4"]


@pytest.fixture(scope="module")
def clean_raw() -> mne.io.BaseRaw:
    """One synthetic subject, 40 s (16 s baseline + one 20 s clip + gaps; 14 ch, 128 Hz, 11 blinks at seed 0),
    band-passed 1-45 Hz at the average reference."""
    session = make_session(
        0,
        SyntheticConfig(
            n_subjects=1, n_trials=1, baseline_seconds=16.0, stimulus_seconds=20.0, bad_channel_probability=0.0
        ),
    )
    assert len(session.info["blink_onsets_s"]) >= 8
    cfg = PreprocessConfig(filter=FilterConfig(), bad_channels=BadChannelConfig(enabled=False))
    raw, _log = preprocess_eeg(session.eeg, cfg, "S01")
    return raw


def frontal_correlations(raw: mne.io.BaseRaw, ica: mne.preprocessing.ICA) -> np.ndarray:
    """|Pearson r| of each ICA component's time course with the mean of AF3 and AF4, (n_components,)."""
    sources = ica.get_sources(raw).get_data()
    frontal = raw.get_data(picks=FRONTAL).mean(axis=0)
    return np.array([abs(np.corrcoef(source, frontal)[0, 1]) for source in sources])


@pytest.fixture(scope="module")
def iclabel_ica(clean_raw) -> mne.preprocessing.ICA:
    """Extended infomax classified by ICLabel, fitted once for the module."""
    return fit_blink_ica(clean_raw, IcaConfig(method="infomax_extended", classifier="iclabel", seed=0), "S01")


def test_config_validation():
    assert IcaConfig().classifier == "frontal_proxy"
    assert IcaConfig(method="infomax_extended", classifier="iclabel").iclabel_threshold == 0.8
    with pytest.raises(ValidationError, match="classifier"):
        IcaConfig(classifier="adjust")
    with pytest.raises(ValidationError, match="iclabel_threshold"):
        IcaConfig(iclabel_threshold=1.0)


def test_extended_infomax_is_used(iclabel_ica):
    assert iclabel_ica.method == "infomax" and iclabel_ica.fit_params["extended"] is True


def test_iclabel_removes_the_blink_component(clean_raw, iclabel_ica):
    """ICLabel removes exactly one component, the one most correlated with AF3/AF4: the blink (|r| > 0.9)."""
    r = frontal_correlations(clean_raw, iclabel_ica)
    assert iclabel_ica.exclude == [int(np.argmax(r))]
    assert r[iclabel_ica.exclude[0]] > 0.9


def test_frontal_proxy_removes_the_blink_component(clean_raw):
    """At the default threshold (z = 3) ``find_bads_eog`` picks the blink component and nothing else."""
    ica = fit_blink_ica(clean_raw, IcaConfig(method="infomax_extended", classifier="frontal_proxy", seed=0), "S01")
    r = frontal_correlations(clean_raw, ica)
    assert ica.exclude == [int(np.argmax(r))]
    assert r[ica.exclude[0]] > 0.9


def test_missing_icalabel_names_the_extra(clean_raw, monkeypatch):
    monkeypatch.setitem(sys.modules, "mne_icalabel", None)
    with pytest.raises(MissingExtraError, match=r"biosig-affect\[cleaning\]"):
        fit_blink_ica(clean_raw, IcaConfig(classifier="iclabel"), "S01")


def test_decim_3_finds_the_same_blink_component(clean_raw, iclabel_ica):
    """Fitted on every 3rd sample, extended infomax with the frontal proxy removes one component, the blink
    (|r| > 0.9 with AF3/AF4), whose time course on the full recording is the full fit's blink component (|r| > 0.99)."""
    decimated = fit_blink_ica(clean_raw, IcaConfig(method="infomax_extended", seed=0, decim=3), "S01")
    r = frontal_correlations(clean_raw, decimated)
    assert decimated.exclude == [int(np.argmax(r))] and r[decimated.exclude[0]] > 0.9
    full_blink = int(np.argmax(frontal_correlations(clean_raw, iclabel_ica)))
    blink_full = iclabel_ica.get_sources(clean_raw).get_data()[full_blink]
    blink_decim = decimated.get_sources(clean_raw).get_data()[decimated.exclude[0]]
    assert abs(np.corrcoef(blink_full, blink_decim)[0, 1]) > 0.99


def test_decim_must_be_positive():
    assert IcaConfig().decim is None
    with pytest.raises(ValidationError, match="decim"):
        IcaConfig(decim=0)
