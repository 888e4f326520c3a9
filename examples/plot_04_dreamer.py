"""
DREAMER
=======

DREAMER (Katsigiannis & Ramzan 2018) is one MATLAB file, ``DREAMER.mat``, with
14-channel Emotiv EEG at 128 Hz, 2-lead ECG at 256 Hz and 1-5 self-assessment
ratings for 18 film clips per subject (:mod:`biosig.datasets.dreamer` documents
the structure). The dataset cannot be redistributed, so this example writes a
small file with the same structure from two synthetic subjects
(:func:`biosig.datasets.writers.write_dreamer_mat`) and loads it the way the real
file is loaded: :func:`biosig.datasets.load_dreamer` yields one labelled
:class:`~biosig.session.Session` per subject, lazily.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from biosig.config import RunConfig
from biosig.datasets import SyntheticConfig, load_dreamer, make_cohort
from biosig.datasets.writers import write_dreamer_mat
from biosig.pipeline import cohort_features

path = Path(tempfile.mkdtemp(prefix="biosig-dreamer-")) / "DREAMER.mat"
cohort = make_cohort(SyntheticConfig(n_subjects=2, n_trials=4, baseline_seconds=8.0, stimulus_seconds=12.0, seed=7))
write_dreamer_mat(cohort, path)
print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")

# %%
# Load it: baselines and clips back to back on one clock, trial annotations on
# every recording, native 1-5 ratings in the trial table.
sessions = list(load_dreamer(path))
first = sessions[0]
print(first.subject, first.eeg, first.ecg, sep="\n")
print(first.trials)

# %%
# Features of both subjects, ECG features included (heart rate and HRV of each
# window, minus the trial's baseline).
features, _ = cohort_features(sessions, RunConfig())
print(list(features.data_vars))

# %%
# Alpha differential entropy of one channel over the windows, coloured by arousal.
de = features["de"].sel(band="alpha", channel="O1")
fig, ax = plt.subplots(figsize=(6, 3))
points = ax.scatter(range(features.sizes["window"]), de, c=features["arousal"], cmap="viridis", vmin=1, vmax=5)
fig.colorbar(points, ax=ax, label="arousal rating")
ax.set(xlabel="window (both subjects)", ylabel="alpha DE at O1 (baseline-subtracted)")
fig.tight_layout()
