"""Compare the bad-channel detectors of ``preprocess.bad_channels.method`` on real and synthetic EEG.

Real EEG (``../shared/data`` or ``$BIOSIG_SHARED_DATA``): physionet-eegmat
Subject00_1/2 and Subject01_1/2 (19 ch, 500 Hz, EDF) and the bci-essentials
LabRecorder XDF files with real EEG: P300 and switch (g.USBamp, 16 ch, 256 Hz)
and SSVEP (DSI-7, 7 ch, 300 Hz; the trigger channel dropped). Each is
notch-filtered at its mains frequency and band-passed 1-45 Hz as the default
``preprocess.filter`` does (the high-pass removes the g.USBamp DC offsets)
before detection, as in :func:`biosig.preprocess.eeg.preprocess_eeg`.

Synthetic: ``--subjects`` subjects of the embedded cohort with
``bad_channel_probability = 1`` (each has one planted flat or noisy channel,
``session.info["bad_channels"]``), scored by precision and recall over all
of them.

Prints one row per method x recording: channels flagged (with reasons for the
synthetic ones summarised as hits/false alarms) and seconds.

    .venv/bin/python benchmarks/compare_bad_channels.py [--subjects 8] [--trials 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import mne
import numpy as np
import pyxdf

from biosig.config import BadChannelConfig, FilterConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.preprocess.eeg import BAD_CHANNEL_DETECTORS, apply_filters

SHARED = Path(os.environ.get("BIOSIG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
EEGMAT = ["Subject00_1", "Subject00_2", "Subject01_1", "Subject01_2"]
XDF = {
    "P300": "sub-P001_ses-S001_task-P300Checkboard_run-001_eeg.xdf",
    "switch": "switch_example.xdf",
    "SSVEP": "ssvep_example.xdf",
}
METHODS = tuple(BAD_CHANNEL_DETECTORS)


def eegmat_raw(name: str) -> mne.io.BaseRaw:
    """An eegmat EDF's 19 EEG channels, volts, standard 10-20 montage."""
    raw = mne.io.read_raw_edf(SHARED / "physionet-eegmat" / f"{name}.edf", preload=True, verbose="error")
    raw.pick([ch for ch in raw.ch_names if ch.startswith("EEG ") and "A2-A1" not in ch])
    raw.rename_channels(lambda ch: ch.removeprefix("EEG "))
    raw.set_montage("standard_1020", on_missing="ignore")
    return raw


def xdf_raw(file: str) -> mne.io.BaseRaw:
    """The EEG stream of a bci-essentials XDF (microvolts -> volts), trigger channel dropped."""
    streams, _ = pyxdf.load_xdf(SHARED / "bci-essentials-xdf" / file)
    stream = next(s for s in streams if s["info"]["type"][0].upper() == "EEG")
    labels = [c["label"][0] for c in stream["info"]["desc"][0]["channels"][0]["channel"]]
    keep = [i for i, name in enumerate(labels) if name != "TRG"]
    data = np.asarray(stream["time_series"], dtype=float)[:, keep].T * 1e-6
    info = mne.create_info([labels[i] for i in keep], float(stream["info"]["nominal_srate"][0]), "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_montage("standard_1020", on_missing="ignore")
    return raw


def detect(raw: mne.io.BaseRaw, method: str, cfg: BadChannelConfig) -> tuple[dict[str, str], float]:
    """``{channel: reason}`` of ``method`` and its seconds."""
    start = time.perf_counter()
    found = BAD_CHANNEL_DETECTORS[method](raw, cfg)
    return found, time.perf_counter() - start


def real_rows(cfg: BadChannelConfig) -> list[tuple[str, str, str, float]]:
    """(method, recording, flagged, seconds) for every real recording."""
    recordings = [(name, eegmat_raw(name), 50.0) for name in EEGMAT]
    recordings += [(key, xdf_raw(file), 60.0) for key, file in XDF.items()]
    rows = []
    for name, raw, line in recordings:
        apply_filters(raw, FilterConfig(line_freq=line))
        for method in METHODS:
            found, seconds = detect(raw, method, cfg)
            flagged = ", ".join(f"{ch} ({why})" for ch, why in found.items()) or "-"
            rows.append((method, f"{name} ({len(raw.ch_names)} ch)", flagged, seconds))
    return rows


def synthetic_rows(cfg: BadChannelConfig, n_subjects: int, n_trials: int, seed: int) -> list[tuple[str, str, str, float]]:
    """(method, "synthetic", precision/recall summary, seconds) over ``n_subjects`` subjects."""
    syn = SyntheticConfig(n_subjects=n_subjects, n_trials=n_trials, bad_channel_probability=1.0, seed=seed)
    tally = {m: {"tp": 0, "fp": 0, "fn": 0, "s": 0.0, "missed": []} for m in METHODS}
    for k in range(n_subjects):
        session = make_session(k, syn)
        raw = session.eeg.copy().load_data()
        apply_filters(raw, FilterConfig())
        truth = set(session.info["bad_channels"])
        kinds = session.info["bad_channel_kinds"]
        for method in METHODS:
            found, seconds = detect(raw, method, cfg)
            t = tally[method]
            t["tp"] += len(truth & set(found))
            t["fp"] += len(set(found) - truth)
            t["fn"] += len(truth - set(found))
            t["missed"] += [f"{session.subject}:{ch} {kinds[ch]}" for ch in truth - set(found)]
            t["s"] += seconds
    rows = []
    for method, t in tally.items():
        precision = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else float("nan")
        recall = t["tp"] / (t["tp"] + t["fn"])
        text = f"precision {precision:.2f}, recall {recall:.2f} (hits {t['tp']}, false alarms {t['fp']}"
        text += f"; missed {', '.join(t['missed'])})" if t["missed"] else ")"
        rows.append((method, f"synthetic seed {seed}, {n_subjects} subjects (14 ch)", text, t["s"]))
    return rows


def main() -> None:
    """Print the comparison table (reStructuredText grid-friendly lines)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--trials", type=int, default=4, help="trials per synthetic subject (61 s + 60 s each)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic cohort seed")
    args = parser.parse_args()
    mne.set_log_level("ERROR")  # pyprep's filters log their design through MNE
    cfg = BadChannelConfig()
    rows = real_rows(cfg) + synthetic_rows(cfg, args.subjects, args.trials, args.seed)
    print(f"{'method':<17} | {'recording':<32} | {'seconds':>7} | flagged")
    for method, recording, flagged, seconds in sorted(rows, key=lambda r: (r[1], METHODS.index(r[0]))):
        print(f"{method:<17} | {recording:<32} | {seconds:7.2f} | {flagged}")


if __name__ == "__main__":
    main()
