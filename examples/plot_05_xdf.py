"""
A LabRecorder XDF file
======================

LabRecorder saves every Lab Streaming Layer stream of a session into one XDF file:
each device's samples with its own time stamps, clock offsets, and marker
streams. :func:`biosig.io.read_session` aligns the streams on the LSL clock
(:mod:`biosig.io.xdf`), converts units from the stream headers, and turns markers
into annotations. Here a small XDF file with the structure LabRecorder writes (an
EEG stream in microvolts, an ECG/EDA device at another rate, a marker stream) is
written by a few lines of ``struct`` code and read back.
"""

# %%
# A minimal XDF writer: FileHeader, StreamHeader, Samples, ClockOffset and
# StreamFooter chunks (the XDF 1.0 specification), enough for this example.
import struct
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from biosig.features import band_power, differential_entropy
from biosig.io import read_session


def chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return b"\x08" + struct.pack("<Q", len(body)) + body


def stream_header(sid, name, kind, fmt, srate, labels, units, count):
    channels = "".join(f"<channel><label>{c}</label><unit>{u}</unit></channel>" for c, u in zip(labels, units))
    xml = (
        f'<?xml version="1.0"?><info><name>{name}</name><type>{kind}</type><channel_count>{count}</channel_count>'
        f"<nominal_srate>{srate}</nominal_srate><channel_format>{fmt}</channel_format><created_at>0</created_at>"
        f"<desc><channels>{channels}</channels></desc></info>"
    )
    return chunk(2, struct.pack("<I", sid) + xml.encode())


def numeric_samples(sid, stamps, data, dtype):
    rows = b"".join(b"\x08" + struct.pack("<d", t) + np.asarray(row, dtype).tobytes() for t, row in zip(stamps, data))
    return chunk(3, struct.pack("<I", sid) + b"\x04" + struct.pack("<I", len(stamps)) + rows)


def marker_samples(sid, stamps, labels):
    rows = b"".join(
        b"\x08" + struct.pack("<d", t) + b"\x04" + struct.pack("<I", len(m)) + m.encode() for t, m in zip(stamps, labels)
    )
    return chunk(3, struct.pack("<I", sid) + b"\x04" + struct.pack("<I", len(stamps)) + rows)


def footer(sid, stamps):
    xml = (
        f'<?xml version="1.0"?><info><first_timestamp>{stamps[0]}</first_timestamp>'
        f"<last_timestamp>{stamps[-1]}</last_timestamp><sample_count>{len(stamps)}</sample_count></info>"
    )
    return chunk(6, struct.pack("<I", sid) + xml.encode())


# %%
# Thirty seconds of 8-channel EEG at 250 Hz (a 10 Hz alpha rhythm that grows after
# the ``eyes_closed`` marker), and an ECG + EDA device at 128 Hz whose recording
# starts 2 s later on the same LSL clock.
rng = np.random.default_rng(0)
eeg_names = ["Fp1", "Fp2", "C3", "C4", "P3", "P4", "O1", "O2"]
t0, seconds = 1000.0, 30.0
eeg_t = t0 + np.arange(int(seconds * 250)) / 250
alpha = np.where(eeg_t - t0 > 15, 20.0, 5.0) * np.sin(2 * np.pi * 10 * eeg_t)
eeg = rng.normal(0, 5, (len(eeg_t), 8)) + alpha[:, None]  # µV
dev_t = t0 + 2 + np.arange(int(26 * 128)) / 128
device = np.column_stack([0.5 * np.sin(2 * np.pi * 1.2 * dev_t), 2 + 0.01 * np.arange(len(dev_t)) / 128])  # mV, µS
marks_t, marks = [t0 + 5, t0 + 15], ["eyes_open", "eyes_closed"]

xdf = b"XDF:" + chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
xdf += stream_header(1, "Amp", "EEG", "float32", 250, eeg_names, ["microvolts"] * 8, 8)
xdf += stream_header(2, "Shimmer", "Physio", "double64", 128, ["ECG", "GSR"], ["millivolts", "microsiemens"], 2)
xdf += stream_header(3, "Events", "Markers", "string", 0, [], [], 1)
xdf += numeric_samples(1, eeg_t, eeg, "<f4") + numeric_samples(2, dev_t, device, "<f8")
xdf += marker_samples(3, marks_t, marks)
for sid in (1, 2, 3):
    xdf += chunk(4, struct.pack("<Idd", sid, t0 + 10, 0.0))  # clock offsets: every stream on the LSL clock
xdf += footer(1, eeg_t) + footer(2, dev_t) + footer(3, marks_t)
path = Path(tempfile.mkdtemp(prefix="biosig-xdf-")) / "sub-P01_ses-S001_task-rest_run-001_eeg.xdf"
path.write_bytes(xdf)

# %%
# Read it: every stream on one clock (t = 0 at the latest start among EEG, ECG
# and EDA), units converted to SI, markers as annotations.
session = read_session(path)
print(session.subject, session.info["source"])
print(session.eeg, session.ecg, session.eda, sep="\n")
print(session.eeg.annotations)
print(session.info["warnings"])

# %%
# No ``baseline/T01`` markers, so no trial table: compute features on
# fixed 2-s windows instead, with the package's feature functions.
import mne

epochs = mne.make_fixed_length_epochs(session.eeg, duration=2.0, preload=True, verbose="error")
power = band_power(epochs.get_data(), epochs.info["sfreq"])  # (n_windows, n_channels, n_bands), V²
de = differential_entropy(power)
alpha_de = de[:, session.eeg.ch_names.index("O1"), 2]
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(epochs.events[:, 0] / epochs.info["sfreq"], alpha_de, marker="o")
for onset, label in zip(session.eeg.annotations.onset, session.eeg.annotations.description):
    ax.axvline(onset, color="k", ls="--")
    ax.text(onset, alpha_de.max(), f" {label}", va="top")
ax.set(xlabel="time (s, session clock)", ylabel="alpha DE at O1 (nats)")
fig.tight_layout()
