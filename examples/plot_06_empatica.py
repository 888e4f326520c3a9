"""
An Empatica E4 export
=====================

The Empatica E4 wristband exports one folder with a CSV file per sensor:
``EDA.csv`` (µS, 4 Hz), ``BVP.csv`` (64 Hz), ``TEMP.csv`` (°C, 4 Hz), ``HR.csv``
(1 Hz, from 10 s on), ``ACC.csv`` (1/64 g, 32 Hz), ``IBI.csv`` (inter-beat
intervals) and ``tags.csv`` (button presses). Each sensor file starts with the
session start (unix seconds) and the rate. :func:`biosig.io.read_session`
recognises such a folder (:mod:`biosig.io.e4`) and returns EDA in siemens, the
other sensors in ``Session.extra``, tags and inter-beat intervals as annotations.
"""

# %%
# Write a two-minute export from a synthetic skin-conductance trace with one
# response after a button press.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from biosig.features.peripheral import eda_window_features
from biosig.io import read_session

folder = Path(tempfile.mkdtemp(prefix="biosig-e4-")) / "A01B2C_1700000000"
folder.mkdir()
start, seconds = 1_700_000_000.0, 120
rng = np.random.default_rng(1)


def write_sensor(name: str, rate: float, columns: np.ndarray) -> None:
    columns = np.atleast_2d(columns.T).T
    header = ", ".join([f"{start:.6f}"] * columns.shape[1]) + "\n" + ", ".join([f"{rate:.6f}"] * columns.shape[1])
    np.savetxt(folder / name, columns, fmt="%.6f", delimiter=",", header=header, comments="")


t_eda = np.arange(seconds * 4) / 4
scr = np.where(t_eda > 66, 0.8 * (np.exp(-(t_eda - 66) / 8) - np.exp(-(t_eda - 66) / 1.5)), 0.0)
write_sensor("EDA.csv", 4, 2.0 + 0.002 * t_eda + scr + rng.normal(0, 0.005, t_eda.size))
t_bvp = np.arange(seconds * 64) / 64
write_sensor("BVP.csv", 64, 40 * np.sin(2 * np.pi * 1.1 * t_bvp))
write_sensor("TEMP.csv", 4, np.full(t_eda.size, 33.1))
write_sensor("HR.csv", 1, np.full(seconds - 10, 66.0))
write_sensor("ACC.csv", 32, np.tile([2, -10, 62], (seconds * 32, 1)))
beats = np.arange(1.0, seconds, 0.91)
(folder / "IBI.csv").write_text(f"{start:.6f}, IBI\n" + "".join(f"{b:.6f},0.910000\n" for b in beats[1:]))
(folder / "tags.csv").write_text(f"{start + 64.5:.2f}\n")
print(sorted(p.name for p in folder.iterdir()))

# %%
# Read the folder: the subject is the folder name.
session = read_session(folder)
print(session.subject, session.eda)
print({name: raw.info["sfreq"] for name, raw in session.extra.items()})
tags = session.eda.annotations[session.eda.annotations.description == "tag"]
print("tag at", tags.onset, "s;", (session.eda.annotations.description == "IBI").sum(), "inter-beat intervals")

# %%
# EDA features of 20-s windows (:func:`biosig.features.peripheral.eda_window_features`):
# tonic level and phasic responses per window. Their 3-Hz low-pass needs a rate
# above 6 Hz, so the E4's 4-Hz EDA is first resampled (MNE) to 16 Hz.
eda_raw = session.eda.copy().resample(16.0, verbose="error")
sfreq = eda_raw.info["sfreq"]
eda = eda_raw.get_data()[0]
n = int(20 * sfreq)
windows = eda[: eda.size // n * n].reshape(-1, n)
features = eda_window_features(windows, sfreq)
for name, values in features.items():
    print(f"{name:>20}: {np.round(values, 3 if 'us' in name else 2)}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(session.eda.times, session.eda.get_data()[0] * 1e6)
ax.axvline(tags.onset[0], color="k", ls="--", label="tag")
ax.set(xlabel="time (s)", ylabel="EDA (µS)")
ax.legend()
fig.tight_layout()
