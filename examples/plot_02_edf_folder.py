"""
An EDF folder with events
=========================

Two ways recorded EEG arrives as EDF:

* the package's own **session files**: one folder, per subject an EDF+ EEG file
  with the trial annotations, ECG and EDA as CSV and the trial table
  (:mod:`biosig.io.files`);
* a plain **EDF+ recording** from an amplifier, with ``baseline/T01`` and
  ``stimulus/T01`` annotations marking each trial, plus a ratings table.

:func:`biosig.io.read_session` recognises both by content and returns a
:class:`~biosig.session.Session`: one :class:`mne.io.Raw` per modality in SI
units on one clock, and the trial table.
"""

# %%
# Write a short synthetic session as session files into a temporary folder.
import tempfile
from pathlib import Path

import mne
import pandas as pd

from biosig.config import RunConfig
from biosig.datasets import SyntheticConfig, make_session
from biosig.io import read_session, write_session_files
from biosig.pipeline import session_features

folder = Path(tempfile.mkdtemp(prefix="biosig-edf-"))
original = make_session(0, SyntheticConfig(n_subjects=1, n_trials=4, baseline_seconds=8.0, stimulus_seconds=12.0))
written = write_session_files(original, folder / "study")
print({kind: path.name for kind, path in written.items()})

# %%
# Read the folder back: the format is detected from the files.
session = read_session(folder / "study")
print(session.subject, session.info["source"])
print(session.eeg.annotations[:4])
print(session.trials[["trial", "stimulus_onset", "stimulus_duration", "valence", "arousal"]])

# %%
# A plain EDF+ file: the EEG alone, trials as annotations, ratings in a table.
# ``ratings`` turns the annotations into the trial table.
edf = folder / "sub01_rec.edf"
mne.export.export_raw(edf, original.eeg, fmt="edf", overwrite=True, verbose="error")
ratings = original.trials[["trial", "valence", "arousal", "dominance"]]
recording = read_session(edf, ratings=ratings, subject="sub01")
print(recording.eeg.info["sfreq"], "Hz,", len(recording.eeg.ch_names), "EEG channels")
print(recording.info["warnings"])

# %%
# Features per 4-s window, each labelled with its trial's ratings (the EEG only:
# this file has no ECG or EDA).
result = session_features(recording, RunConfig(features={"peripheral": False}))
table = result.features["de"].sel(band="alpha").to_pandas()
print(pd.concat([table.iloc[:, :4], result.features["valence"].to_pandas().rename("valence")], axis=1).head())
