"""
The scikit-learn interface
==========================

:class:`biosig.sklearn.EEGFeatures` is a scikit-learn transformer from EEG
windows (:class:`mne.Epochs` or an array ``(n_windows, n_channels, n_times)`` in
volts with ``sfreq``) to band power, differential entropy and frontal asymmetry,
with feature names from ``get_feature_names_out``. It fits in a
:class:`~sklearn.pipeline.Pipeline`, so the usual tools work: here
``cross_val_score`` with whole trials as groups (a stratified group k-fold, so
every test fold has both classes) (no trial on both sides of a
split, see :doc:`/protocols`) and ``GridSearchCV``. The deep models have
wrappers of the same kind in :mod:`graphs.sklearn` (``DeepClassifier``,
``DeepRegressor``).
"""

# %%
# Windows from a synthetic subject: 2-s windows of each trial's stimulus, labelled
# with the trial's binary valence (rating > 3), grouped by trial.
import mne
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from biosig.datasets import SyntheticConfig, make_session
from biosig.sklearn import EEGFeatures
from graphs.sklearn import DeepClassifier

config = SyntheticConfig(n_subjects=1, n_trials=12, baseline_seconds=4.0, stimulus_seconds=12.0, valence_effect=3.0)
session = make_session(0, config)
raw = session.eeg.copy().filter(1.0, 45.0, verbose="error")
sfreq = raw.info["sfreq"]
X, y, trials = [], [], []
for row in session.trials.itertuples():
    segment = raw.copy().crop(row.stimulus_onset, row.stimulus_onset + row.stimulus_duration - 1 / sfreq)
    windows = mne.make_fixed_length_epochs(segment, duration=2.0, preload=True, verbose="error").get_data()
    X.append(windows)
    y += [int(row.valence > 3)] * len(windows)
    trials += [row.trial] * len(windows)
X, y, trials = np.concatenate(X), np.array(y), np.array(trials)
print(X.shape, "windows x channels x samples;", np.bincount(y), "windows per class")

# %%
# The transformer alone: one row per window, named columns.
features = EEGFeatures(sfreq=sfreq, ch_names=raw.ch_names).fit(X)
print(features.transform(X).shape)
print(features.get_feature_names_out()[:6], "...")

# %%
# A pipeline scored with whole trials held out (``groups``).
pipe = make_pipeline(EEGFeatures(sfreq=sfreq, ch_names=raw.ch_names, features=("de", "faa")), StandardScaler(),
                     LogisticRegression(C=0.1, max_iter=1000))
scores = cross_val_score(pipe, X, y, groups=trials, cv=StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=0), scoring="balanced_accuracy")
print("balanced accuracy per fold:", np.round(scores, 2))

# %%
# The regularisation and the feature kinds chosen by an inner grid search,
# still grouped by trial.
search = GridSearchCV(
    pipe,
    {"logisticregression__C": [0.1, 1.0], "eegfeatures__features": [("de",), ("de", "faa")]},
    cv=StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0),
    scoring="balanced_accuracy",
)
search.fit(X, y, groups=trials)
print(search.best_params_, round(search.best_score_, 2))

# %%
# A deep model of the zoo behind the same interface: logistic regression on
# differential entropy (``logreg_de``), trained for a few epochs.
deep = DeepClassifier("logreg_de", epochs=30, lr=0.01, batch_size=16, sfreq=sfreq, seed=0, threads=1)
deep_scores = cross_val_score(deep, X, y, groups=trials, cv=StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=0), scoring="balanced_accuracy")
print("logreg_de balanced accuracy per fold:", np.round(deep_scores, 2))
