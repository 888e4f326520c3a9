"""The scikit-learn feature transformer :class:`biosig.sklearn.EEGFeatures`."""

from __future__ import annotations

import mne
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from biosig.features.eeg import DEFAULT_BANDS, band_power, differential_entropy, frontal_asymmetry
from biosig.sklearn import EEGFeatures

SFREQ = 128.0
CHANNELS = ["AF3", "F3", "F4", "AF4", "O1", "O2"]


def _windows(n_windows: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n_windows, 6, 256)`` volts of 2-s windows, labels (alpha on F4 in class 1) and trials (4 windows each)."""
    rng = np.random.default_rng(seed)
    t = np.arange(256) / SFREQ
    y = np.repeat(np.arange(n_windows // 4) % 2, 4)
    x = rng.standard_normal((n_windows, len(CHANNELS), t.size)) * 1e-6
    x[:, CHANNELS.index("F4")] += (1 + 3 * y)[:, None] * 1e-6 * np.sin(2 * np.pi * 10 * t)
    return x, y, np.repeat(np.arange(n_windows // 4), 4)


def test_features_match_the_feature_functions() -> None:
    x, _, _ = _windows()
    est = EEGFeatures(sfreq=SFREQ, ch_names=CHANNELS)
    out = est.fit_transform(x)
    power = band_power(x, SFREQ, DEFAULT_BANDS)
    alpha = list(DEFAULT_BANDS).index("alpha")
    expected = np.concatenate(
        [power.reshape(len(x), -1), differential_entropy(power).reshape(len(x), -1),
         frontal_asymmetry(power, CHANNELS, alpha)],
        axis=1,
    )
    np.testing.assert_array_equal(out, expected)
    names = est.get_feature_names_out().tolist()
    assert len(names) == out.shape[1] == 2 * 6 * 5 + 2
    assert names[:2] == ["bp_delta_AF3", "bp_theta_AF3"]
    de_f4 = names.index("de_alpha_F4")
    np.testing.assert_array_equal(out[:, de_f4], differential_entropy(power)[:, CHANNELS.index("F4"), alpha])
    assert names[-2:] == ["faa_alpha_F4-F3", "faa_alpha_AF4-AF3"]
    assert est.n_features_in_ == 6 * 256


def test_bands_pairs_and_kinds_are_parameters_and_missing_pairs_are_skipped() -> None:
    x, _, _ = _windows()
    names = [ch for ch in CHANNELS if ch != "AF3"]
    est = EEGFeatures(sfreq=SFREQ, ch_names=names, bands={"theta": (4, 8), "alpha": (8, 13)}, features=("de", "faa"))
    out = est.fit_transform(x[:, [CHANNELS.index(ch) for ch in names]])
    cols = est.get_feature_names_out().tolist()
    assert cols[-1] == "faa_alpha_F4-F3" and "faa_alpha_AF4-AF3" not in cols
    assert out.shape == (len(x), 5 * 2 + 1) and cols[0] == "de_theta_F3"
    assert est.pairs_ == [("F4", "F3")]


def test_epochs_give_sfreq_and_channel_names() -> None:
    x, _, _ = _windows()
    info = mne.create_info(CHANNELS + ["ECG"], SFREQ, ["eeg"] * 6 + ["ecg"])
    data = np.concatenate([x, np.zeros((len(x), 1, x.shape[2]))], axis=1)
    epochs = mne.EpochsArray(data, info, verbose="error")
    est = EEGFeatures().fit(epochs)
    assert est.sfreq_ == SFREQ and est.ch_names_ == CHANNELS
    np.testing.assert_allclose(est.transform(epochs), EEGFeatures(sfreq=SFREQ, ch_names=CHANNELS).fit_transform(x))
    with pytest.raises(ValueError, match="disagrees"):
        EEGFeatures(sfreq=256.0).fit(epochs)


def test_two_d_input_and_pandas_output() -> None:
    x, _, _ = _windows()
    flat = x.reshape(len(x), -1)
    est = EEGFeatures(sfreq=SFREQ, ch_names=CHANNELS, n_channels=6).set_output(transform="pandas")
    frame = est.fit_transform(flat)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == est.get_feature_names_out().tolist()
    np.testing.assert_array_equal(frame.to_numpy(), EEGFeatures(sfreq=SFREQ, ch_names=CHANNELS).fit_transform(x))


def test_refuses_missing_sfreq_unshaped_input_and_other_windows() -> None:
    x, _, _ = _windows()
    with pytest.raises(ValueError, match="sfreq"):
        EEGFeatures().fit(x)
    with pytest.raises(ValueError, match="n_channels"):
        EEGFeatures(sfreq=SFREQ).fit(x.reshape(len(x), -1))
    with pytest.raises(ValueError, match="asymmetry_band"):
        EEGFeatures(sfreq=SFREQ, bands={"theta": (4, 8)}).fit(x)
    est = EEGFeatures(sfreq=SFREQ).fit(x)
    with pytest.raises(ValueError, match="fitted on"):
        est.transform(x[:, :4])


def test_pipeline_in_grouped_cross_validation() -> None:
    x, y, trials = _windows(48)
    pipe = make_pipeline(EEGFeatures(sfreq=SFREQ, ch_names=CHANNELS, features=("de", "faa")), StandardScaler(),
                         LogisticRegression())
    scores = cross_val_score(pipe, x, y, groups=trials, cv=GroupKFold(n_splits=3))
    assert scores.shape == (3,) and scores.mean() > 0.9


@parametrize_with_checks(
    [EEGFeatures(sfreq=100.0, n_channels=1, bands={"all": (0.0, 50.0)}, features=("band_power", "de"))]
)
def test_sklearn_estimator_checks(estimator: EEGFeatures, check) -> None:
    """Every check of scikit-learn on 2-D input read as one channel; FAA needs named channels, so is off here."""
    check(estimator)
