"""DEAP's preprocessed files ``sXX.dat`` -> labelled sessions.

Preprocessed files (``data_preprocessed_python/s01.dat`` ... ``s32.dat``)
------------------------------------------------------------------------
Python-2 pickles of a dict: ``data`` 40 x 40 x 8064 (trial x channel x
sample) at **128 Hz**, i.e. a **3-s pre-trial baseline** then the 60-s trial
(63 s); ``labels`` 40 x 4 = [valence, arousal, dominance, liking]. They are
read with ``encoding="latin1"`` through :mod:`biosig.io.safe_pickle`, never
with a plain ``pickle.load``. Channels (:data:`CHANNELS`): 32 EEG in the
Geneva order (TorchEEG ``DEAP_CHANNEL_LIST``: Fp1, AF3, F3, F7, FC5, FC1, C3,
T7, CP5, CP1, P3, P7, PO3, O1, Oz, Pz, Fp2, AF4, Fz, F4, F8, FC6, FC2, Cz,
C4, T8, CP6, CP2, P4, P8, PO4, O2), then 8 peripheral channels whose names
are **UNVERIFIED** against the official readme (quoted in public code as
hEOG, vEOG, zEMG, tEMG, GSR, respiration belt, plethysmograph, temperature).
That the preprocessed files are all in Geneva order (subjects 1-22 were
recorded in Twente with another order) and their preprocessing (4-45 Hz
band-pass, EOG removal, common average reference, trial reordering to video
order) are UNVERIFIED too.

Units. EEG, EOG and EMG are taken as µV and multiplied by 1e-6 (volts). The
GSR channel is skin resistance in ohms according to the readme as quoted in
public code ("values from Twente converted to Geneva format (Ohm)";
UNVERIFIED, :data:`GSR_UNIT`); the session's EDA is its reciprocal, the
conductance in siemens. A non-positive resistance cannot be converted and is
a DataError naming the file and trial. Respiration, plethysmograph and
temperature keep the file's (undocumented) units.

What :func:`load_deap` builds: one :class:`~biosig.session.Session` per file
(``"S01"`` from ``s01.dat``): the 40 trials back to back (trial *j* starts
at ``63 j`` s: baseline 3 s, then the stimulus), EEG (32 channels, volts,
template montage), EDA (``GSR``, siemens), and the other peripheral channels
in ``Session.extra``: ``"eog"`` (hEOG, vEOG; V), ``"emg"`` (zEMG, tEMG; V),
``"resp"``, ``"bvp"`` (plethysmograph), ``"temp"`` (:data:`PERIPHERAL_SLOTS`).
Files with fewer trials or samples are read the same way (the
stimulus is whatever follows the 3-s baseline); 40 channels are required.
TorchEEG's ``DEAPDataset`` (``num_baseline=3``: the first 384 samples
averaged into a 1-s template; chunks from sample 384) is computable from
these sessions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biosig.datasets.deap.common import (
    BASELINE_SECONDS,
    BINARY_THRESHOLD,
    CHANNELS,
    EEG_CHANNELS,
    GSR_UNIT,
    PERIPHERAL_SLOTS,
    RATING_SCALE,
    SFREQ,
    SLOT_TYPES,
    TARGETS,
    check_scale,
    raw_array,
    subject_id,
)
from biosig.errors import DataError
from biosig.io.safe_pickle import ArrayBudget, load_pickle
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

#: Array memory a preprocessed file may declare: ``data`` 40 x 40 x 8064 and ``labels`` 40 x 4 at
#: 8 bytes per value. A larger declaration is refused before anything is allocated (biosig.io.safe_pickle).
PICKLE_BUDGET = ArrayBudget(
    max_array_bytes=40 * 40 * 8064 * 8,
    max_total_bytes=(40 * 40 * 8064 + 40 * 4) * 8,
    what="DEAP: data 40 x 40 x 8064, labels 40 x 4",
)

def load_deap(folder: str | Path, subjects: Iterable[int] | None = None) -> Iterator[Session]:
    """Read DEAP's ``data_preprocessed_python`` folder into one session per subject, lazily.

    Parameters
    ----------
    folder
        Folder holding ``s01.dat`` ... ``s32.dat``.
    subjects
        1-based subject numbers (``[1, 7]`` reads ``s01.dat`` and ``s07.dat``);
        every ``sNN.dat`` in the folder when None.

    Returns
    -------
    iterator of Session
        As :func:`read_deap_dat`, one file at a time.

    Raises
    ------
    DataError
        If the folder or a requested file is missing (checked at once), or a
        file's structure is wrong (when it is read).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: DEAP folder not found")
    if subjects is None:
        paths = sorted(p for p in folder.iterdir() if re.fullmatch(r"s\d+\.dat", p.name))
        if not paths:
            raise DataError(f"{folder}: no DEAP files sNN.dat")
    else:
        paths = [folder / f"s{int(s):02d}.dat" for s in subjects]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataError(f"{folder}: DEAP files {missing} not found")
    return (read_deap_dat(p) for p in paths)


def read_deap_dat(path: str | Path) -> Session:
    """Read one preprocessed DEAP file ``sXX.dat`` into a labelled session.

    Parameters
    ----------
    path
        The pickle file; loaded with the restricted unpickler.

    Returns
    -------
    Session
        EEG (32 channels, volts, 128 Hz, montage), EDA (``GSR``, siemens),
        the trial table (3-s baseline + stimulus per trial, valence/arousal/
        dominance 1-9), ``extra`` (``"eog"``: hEOG, vEOG in V; ``"emg"``:
        zEMG, tEMG in V; ``"resp"``, ``"bvp"`` (plethysmograph, MNE ``bio``),
        ``"temp"`` (MNE ``temperature``) in the file's units) and ``info``
        (``source``, ``file``, ``liking``, ``rating_scale``,
        ``binary_threshold``, ``units``).

    Raises
    ------
    DataError
        Naming the file (and subject, trial, field): not a dict with
        ``data`` and ``labels``, ``data`` not (n_trials, 40, n_times) numeric
        with more than 3 s per trial, ``labels`` not (n_trials, 4), ratings
        missing or outside 1-9, non-positive GSR resistance, a refused
        pickle global, arrays larger than :data:`PICKLE_BUDGET`.
    """
    path = Path(path)
    subject = subject_id(path)
    content = load_pickle(path, budget=PICKLE_BUDGET)
    if not isinstance(content, dict):
        raise DataError(
            f"{path}: subject {subject}: expected a dict with 'data' and 'labels', got {type(content).__name__}"
        )
    for key in ("data", "labels"):
        if key not in content:
            raise DataError(f"{path}: subject {subject}: lacks the field {key!r} (it has {sorted(map(str, content))})")
    data, labels = content["data"], content["labels"]
    if not (isinstance(data, np.ndarray) and data.ndim == 3 and np.issubdtype(data.dtype, np.number)):
        raise DataError(
            f"{path}: subject {subject}: field 'data' must be a numeric (trial, channel, sample) array, "
            f"got shape {getattr(data, 'shape', None)}"
        )
    n_trials, n_channels, n_times = data.shape
    if n_channels != len(CHANNELS):
        raise DataError(
            f"{path}: subject {subject}: field 'data' has {n_channels} channels (shape {data.shape}); "
            f"DEAP files have {len(CHANNELS)} (32 EEG + 8 peripheral)"
        )
    n_base = int(round(BASELINE_SECONDS * SFREQ))
    if n_times <= n_base:
        raise DataError(
            f"{path}: subject {subject}: field 'data' has {n_times} samples per trial, not more than the "
            f"{BASELINE_SECONDS:g}-s baseline ({n_base} samples at {SFREQ:g} Hz)"
        )
    ratings = _ratings(labels, n_trials, path, subject)
    trial_s = n_times / SFREQ
    onsets = trial_s * np.arange(n_trials)
    trials = pd.DataFrame(
        {
            "trial": np.arange(1, n_trials + 1),
            "baseline_onset": onsets,
            "baseline_duration": BASELINE_SECONDS,
            "stimulus_onset": onsets + BASELINE_SECONDS,
            "stimulus_duration": trial_s - BASELINE_SECONDS,
            **{t: ratings[:, k] for k, t in enumerate(TARGETS[:3])},
        },
        columns=list(TRIAL_COLUMNS),
    )
    continuous = np.moveaxis(np.asarray(data, dtype=float), 1, 0).reshape(n_channels, n_trials * n_times)
    gsr = continuous[CHANNELS.index("GSR")]
    nonpositive = np.flatnonzero(
        (gsr.reshape(n_trials, n_times) <= 0).any(axis=1) | ~np.isfinite(gsr.reshape(n_trials, n_times)).all(axis=1)
    )
    if nonpositive.size:
        raise DataError(
            f"{path}: subject {subject}: channel 'GSR' (resistance, {GSR_UNIT}) is non-positive or "
            f"non-finite in trials {(nonpositive + 1).tolist()}; cannot convert it to conductance"
        )
    annotations = trial_annotations(trials)
    eeg = raw_array(continuous[: len(EEG_CHANNELS)] * 1e-6, EEG_CHANNELS, "eeg", SFREQ, annotations)
    eeg.set_montage(standard_montage(), verbose="error")
    eda = raw_array(1.0 / gsr[None, :], ("GSR",), "gsr", SFREQ, annotations)
    extra = {
        slot: raw_array(
            continuous[[CHANNELS.index(n) for n in names]] * (1e-6 if slot in ("eog", "emg") else 1.0),
            names, SLOT_TYPES[slot], SFREQ, annotations,
        )
        for slot, names in PERIPHERAL_SLOTS.items()
    }  # fmt: skip
    info = {
        "source": "DEAP (preprocessed)",
        "file": str(path),
        "liking": ratings[:, 3].tolist(),
        "rating_scale": RATING_SCALE,
        "binary_threshold": BINARY_THRESHOLD,
        "units": {"eeg": "V", "eda": "S", "eog": "V", "emg": "V", "resp": "file units", "bvp": "file units",
                  "temp": "file units"},
    }  # fmt: skip
    return Session(subject=subject, eeg=eeg, eda=eda, trials=trials, info=info, extra=extra)


def _ratings(labels: Any, n_trials: int, path: Path, subject: str) -> np.ndarray:
    if not (isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.number)):
        raise DataError(f"{path}: subject {subject}: field 'labels' must be a numeric array")
    if labels.shape != (n_trials, len(TARGETS)):
        raise DataError(
            f"{path}: subject {subject}: field 'labels' has shape {labels.shape}; expected ({n_trials}, 4) "
            "= one [valence, arousal, dominance, liking] row per trial of 'data'"
        )
    values = labels.astype(float)
    check_scale(values, path, subject, "field 'labels'")
    return values
