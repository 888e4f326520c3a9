"""
A BIDS dataset
==============

BIDS organises EEG recordings as ``sub-<label>/[ses-<label>/]eeg/`` files with
sidecars (``channels.tsv``, ``events.tsv``, ``eeg.json``). Here a short
synthetic recording is written as a one-subject BIDS dataset with
`MNE-BIDS <https://mne.tools/mne-bids/>`_ (``write_raw_bids``, EDF conversion),
then the EEG file is read with :func:`biosig.io.read_session`: the subject comes
from the ``sub-`` label, the trials from the annotations (``events.tsv`` holds
the same events for other tools), the ratings from the study's own table.
"""

# %%
import tempfile
from pathlib import Path

import mne
from mne_bids import BIDSPath, make_dataset_description, write_raw_bids

from biosig.config import RunConfig
from biosig.datasets import SyntheticConfig, make_session
from biosig.io import read_session
from biosig.pipeline import session_features

root = Path(tempfile.mkdtemp(prefix="biosig-bids-")) / "bids"
session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=4, baseline_seconds=8.0, stimulus_seconds=12.0))
raw = session.eeg.copy()
raw.info["line_freq"] = 50.0
bids_path = BIDSPath(subject="01", task="films", datatype="eeg", root=root)
write_raw_bids(raw, bids_path, format="EDF", allow_preload=True, overwrite=True, verbose=False)
make_dataset_description(path=root, name="synthetic films", overwrite=True, verbose=False)
# The self-reports are not part of the EEG modality: keep them under ``sourcedata/``,
# which BIDS leaves to the study.
ratings_file = root / "sourcedata" / "sub-01_ratings.tsv"
ratings_file.parent.mkdir()
session.trials[["trial", "valence", "arousal", "dominance"]].to_csv(ratings_file, sep="\t", index=False)
for path in sorted(root.rglob("*")):
    print(path.relative_to(root))
print((root / "sub-01" / "eeg" / "sub-01_task-films_events.tsv").read_text())

# %%
# Read the EEG file of the BIDS dataset; the ratings come from a CSV/TSV path or a
# DataFrame.
import pandas as pd

edf = bids_path.copy().update(suffix="eeg", extension=".edf").fpath
recording = read_session(edf, ratings=pd.read_csv(ratings_file, sep="\t"))
print(recording.subject, recording.eeg)
print(recording.trials[["trial", "stimulus_onset", "valence", "arousal"]])

# %%
# The recording goes through the same pipeline as any other session.
result = session_features(recording, RunConfig(features={"peripheral": False}))
print(result.features.sizes)
