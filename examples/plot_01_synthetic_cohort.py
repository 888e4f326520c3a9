"""
The embedded synthetic cohort: sessions to labelled features
=============================================================

The package embeds a deterministic DREAMER-like cohort
(:mod:`biosig.datasets.synthetic`): 14-channel Emotiv EEG, 2-lead ECG and EDA,
with valence and arousal effects planted in the physiology. Here two short
subjects go through the offline pipeline (:func:`biosig.pipeline.cohort_features`):
preprocessing, 4-s windows, EEG band power, differential entropy and frontal alpha
asymmetry, ECG/EDA features, each window labelled with its trial's ratings.
"""

# %%
# A small cohort: two subjects, six trials of 10 s baseline + 12 s stimulus.
import matplotlib.pyplot as plt

from biosig.config import RunConfig
from biosig.datasets import SyntheticConfig, make_cohort
from biosig.pipeline import cohort_features

synthetic = SyntheticConfig(n_subjects=2, n_trials=6, baseline_seconds=10.0, stimulus_seconds=12.0, seed=3)
sessions = make_cohort(synthetic)
session = sessions[0]
print(session.subject, session.eeg)
print(session.trials)

# %%
# The run configuration is the same object ``biosig run`` reads from YAML; here
# every key is at its default except the peripheral features, skipped for speed.
config = RunConfig(features={"peripheral": False})
features, results = cohort_features(sessions, config)
print(features)

# %%
# One value per window: frontal alpha asymmetry (baseline-subtracted, ln F4 - ln F3
# alpha power) against the trial's valence rating.
faa = features["faa"].sel(pair=features["pair"].values[0])
fig, ax = plt.subplots(figsize=(5, 3.5))
for subject in ("S01", "S02"):
    mine = features["subject"].values == subject
    ax.scatter(features["valence"].values[mine], faa.values[mine], label=subject, alpha=0.7)
ax.set(xlabel="valence rating (1-5)", ylabel=f"FAA {faa['pair'].item()} (ln ratio)", title="Frontal alpha asymmetry")
ax.legend()
fig.tight_layout()
