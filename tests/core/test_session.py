import mne
import numpy as np
import pandas as pd
import pytest

from biosig.errors import DataError
from biosig.session import Session, trial_annotations
from tests.helpers import emotiv_raw


def _trials(**overrides):
    row = dict(trial=1, baseline_onset=0.0, baseline_duration=10.0, stimulus_onset=10.0,
               stimulus_duration=20.0, valence=4, arousal=2, dominance=3)
    row.update(overrides)
    return pd.DataFrame([row])


def test_valid_session_and_annotations():
    s = Session("S01", emotiv_raw(seconds=31.0), _trials())
    assert s.n_trials == 1 and list(s.modalities()) == ["eeg"]
    ann = trial_annotations(s.trials)
    assert list(ann.description) == ["baseline/T01", "stimulus/T01"]
    np.testing.assert_allclose(ann.onset, [0.0, 10.0])


def test_recording_shorter_than_trials_is_named():
    with pytest.raises(DataError, match=r"subject S01: the eeg recording lasts 25.00 s but trials \[1\] end after it"):
        Session("S01", emotiv_raw(seconds=25.0), _trials())
    ecg = mne.io.RawArray(np.zeros((1, 256 * 20)), mne.create_info(["ECG1"], 256.0, "ecg"), verbose="error")
    with pytest.raises(DataError, match="the ecg recording lasts 20.00 s"):
        Session("S01", emotiv_raw(seconds=31.0), _trials(), ecg=ecg)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stimulus_onset": np.nan}, r"column 'stimulus_onset' is missing or not numeric for trials \[1\]"),
        ({"condition": ""}, r"trials \[1\] have no condition label"),
        ({"heart_rate_rating": "x"}, r"column 'heart_rate_rating' is missing or not numeric"),
        ({"baseline_duration": -1.0}, "baseline_duration must not be negative"),
        ({"arousal": "high"}, r"column 'arousal' is missing or not numeric"),
        ({"stimulus_duration": 0.0}, "stimulus_duration must be positive"),
        ({"baseline_onset": -1.0}, "onsets must be >= 0"),
    ],
)
def test_bad_trial_fields_are_named(overrides, message):
    with pytest.raises(DataError, match=message):
        Session("S07", emotiv_raw(seconds=31.0), _trials(**overrides))


def test_condition_only_trials_keep_their_labels_and_nan_ratings():
    trials = _trials(valence=np.nan, arousal=np.nan, dominance=np.nan, baseline_duration=0.0, condition="rest", effort=2)
    session = Session("S07", emotiv_raw(seconds=31.0), trials)
    assert list(session.trials.columns[-2:]) == ["condition", "effort"]
    assert session.trials.loc[0, "condition"] == "rest"
    assert session.trials.loc[0, "effort"] == 2.0
    assert session.trials[["valence", "arousal", "dominance"]].isna().all().all()


def test_missing_column_and_duplicate_trials():
    with pytest.raises(DataError, match=r"lacks columns \['dominance'\]"):
        Session("S01", emotiv_raw(seconds=31.0), _trials().drop(columns="dominance"))
    two = pd.concat([_trials(), _trials()], ignore_index=True)
    with pytest.raises(DataError, match=r"duplicate trial numbers \[1\]"):
        Session("S01", emotiv_raw(seconds=31.0), two)


def test_pipeline_refuses_sessions_without_features_or_trials():
    """A session without EEG goes through on its ECG/EDA (tests/core/test_pipeline_modalities.py);
    without EEG and with peripheral features off there is nothing to compute."""
    from biosig.config import RunConfig, config_from_dict
    from biosig.pipeline import session_features
    from biosig.session import empty_trials

    ecg = mne.io.RawArray(np.zeros((1, 256 * 40)), mne.create_info(["ECG1"], 256.0, "ecg"), verbose="error")
    no_peripheral = config_from_dict({"features": {"peripheral": False}})
    with pytest.raises(DataError, match="S03: no features to compute: the session has no EEG and features.peripheral is false"):
        session_features(Session("S03", None, _trials(), ecg=ecg), no_peripheral)
    with pytest.raises(DataError, match="subject S04: the session has no trials"):
        session_features(Session("S04", emotiv_raw(seconds=31.0), empty_trials()), RunConfig())
