"""DEAP (Koelstra et al. 2012): preprocessed ``sXX.dat`` and original ``sXX.bdf`` -> labelled sessions.

The dataset
-----------
32 subjects each watched 40 one-minute music-video excerpts and rated
valence, arousal, dominance and liking on continuous **1-9** scales.
Binarisation is left to the evaluation: the usual cut is the middle of the
scale, high = ``rating > 5`` (:data:`BINARY_THRESHOLD`, the project's
``rating > threshold`` convention); TorchEEG's ``Binary(5.0)`` uses
``rating >= 5``, so ratings of exactly 5 differ between the two. Ratings
stay on their native scale in the trial table (liking in
``info["liking"]``) and ``info["rating_scale"] = (1, 9)``.

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

Original recordings (``data_original/sXX.bdf``)
-----------------------------------------------
BioSemi BDF at 512 Hz: 32 EEG, ``EXG1``-``EXG8``, ``GSR1``, ``GSR2``,
``Erg1``, ``Erg2``, ``Resp``, ``Plet``, ``Temp`` and the ``Status`` trigger
channel. :func:`read_deap_bdf_raw` reads them with MNE and turns the status
codes (low byte) into annotations, with the meanings of the readme as quoted
in several public repositories (:data:`STATUS_CODES`): 1 = experiment start
(first), baseline recording (second, 2 min), rating screen (later); 2 = video
synchronisation screen; 3 = 5-s fixation before a trial; 4 = music video (60
s); 5 = 3-s fixation after it; 7 = end. Each annotation lasts until the next
status event. UNVERIFIED: the EXG order (taken as hEOG1, hEOG2, vEOG1, vEOG4,
zEMG1, zEMG2, tEMG1, tEMG2 from the quoted list), that every file's status
channel is labelled ``Status`` (public code suggests some are not; such a
file is a DataError naming its channels) and the units of GSR1 (ohms, as the
file header says) and of Resp/Plet/Temp. :func:`read_deap_bdf` makes a
session: one trial per video onset (code 4), its baseline the preceding
fixation (code 3), ratings from DEAP's ``participant_ratings.csv`` matched
by presentation order (its ``Trial`` column), because the BDF holds no
ratings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.io.safe_pickle import ArrayBudget, load_pickle
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

#: The 32 EEG channels in the Geneva order of the preprocessed files (TorchEEG's list, 10-05 spelling).
EEG_CHANNELS: tuple[str, ...] = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip
#: Peripheral channels 33-40 of the preprocessed files (names UNVERIFIED) and their MNE types.
PERIPHERAL_TYPES: dict[str, str] = {
    "hEOG": "eog", "vEOG": "eog", "zEMG": "emg", "tEMG": "emg", "GSR": "gsr",
    "Respiration": "resp", "Plethysmograph": "bio", "Temperature": "temperature",
}  # fmt: skip
#: Session ``extra`` slot -> the peripheral channels it holds (GSR is the session's ``eda``).
PERIPHERAL_SLOTS: dict[str, tuple[str, ...]] = {
    "eog": ("hEOG", "vEOG"), "emg": ("zEMG", "tEMG"), "resp": ("Respiration",),
    "bvp": ("Plethysmograph",), "temp": ("Temperature",),
}  # fmt: skip
#: All 40 channels of a preprocessed file, in order.
CHANNELS: tuple[str, ...] = EEG_CHANNELS + tuple(PERIPHERAL_TYPES)
SFREQ = 128.0  # Hz, preprocessed files
BASELINE_SECONDS = 3.0
GSR_UNIT = "ohm"  # UNVERIFIED (module docstring)
RATING_SCALE: tuple[int, int] = (1, 9)
BINARY_THRESHOLD = 5.0  # high = rating > 5
TARGETS: tuple[str, ...] = ("valence", "arousal", "dominance", "liking")
#: Array memory a preprocessed file may declare: ``data`` 40 x 40 x 8064 and ``labels`` 40 x 4 at
#: 8 bytes per value. A larger declaration is refused before anything is allocated (biosig.io.safe_pickle).
PICKLE_BUDGET = ArrayBudget(
    max_array_bytes=40 * 40 * 8064 * 8,
    max_total_bytes=(40 * 40 * 8064 + 40 * 4) * 8,
    what="DEAP: data 40 x 40 x 8064, labels 40 x 4",
)

#: EEG channel labels expected in an original BDF recording.
BDF_EEG_CHANNELS: tuple[str, ...] = EEG_CHANNELS
#: External electrodes of the BDF recordings and what they are (order UNVERIFIED).
BDF_EXG_CHANNELS: tuple[str, ...] = tuple(f"EXG{k}" for k in range(1, 9))
BDF_EXG_MEANING: dict[str, str] = dict(
    zip(BDF_EXG_CHANNELS, ("hEOG1", "hEOG2", "vEOG1", "vEOG4", "zEMG1", "zEMG2", "tEMG1", "tEMG2"))
)
#: Session ``extra`` slot -> BDF channels (GSR1 becomes the session's ``eda``, Status ``"stim"``).
_BDF_SLOTS: dict[str, tuple[str, ...]] = {
    "eog": BDF_EXG_CHANNELS[:4], "emg": BDF_EXG_CHANNELS[4:], "resp": ("Resp",), "bvp": ("Plet",),
    "temp": ("Temp",), "misc": ("GSR2", "Erg1", "Erg2"),
}  # fmt: skip
_SLOT_TYPES = {"eog": "eog", "emg": "emg", "resp": "resp", "bvp": "bio", "temp": "temperature", "misc": "misc"}
_BDF_TYPES: dict[str, str] = {
    "GSR1": "misc",
    **{ch: _SLOT_TYPES[slot] for slot, names in _BDF_SLOTS.items() for ch in names},
}
#: Status codes of the original recordings (low byte of the Status channel) -> annotation name.
STATUS_CODES: dict[int, str] = {
    1: "start/baseline/rating",
    2: "sync_screen",
    3: "fixation",
    4: "video",
    5: "post_video_fixation",
    7: "end",
}
_STATUS_MASK = 0xFF  # BioSemi's upper status bits carry CMS/battery flags, not triggers


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
    subject = _subject_id(path)
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
    eeg = _raw(continuous[: len(EEG_CHANNELS)] * 1e-6, EEG_CHANNELS, "eeg", SFREQ, annotations)
    eeg.set_montage(standard_montage(), verbose="error")
    eda = _raw(1.0 / gsr[None, :], ("GSR",), "gsr", SFREQ, annotations)
    extra = {
        slot: _raw(
            continuous[[CHANNELS.index(n) for n in names]] * (1e-6 if slot in ("eog", "emg") else 1.0),
            names, _SLOT_TYPES[slot], SFREQ, annotations,
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


def read_deap_bdf_raw(path: str | Path) -> mne.io.BaseRaw:
    """Read an original DEAP recording ``sXX.bdf`` with typed channels and status annotations.

    Parameters
    ----------
    path
        The BDF file.

    Returns
    -------
    mne.io.Raw
        All channels, preloaded: EEG (eeg, volts, template montage),
        EXG1-4 (eog, V), EXG5-8 (emg, V), GSR1/GSR2/Erg1/Erg2 (misc, file
        units: GSR in ohms), Resp (resp), Plet (bio), Temp (temperature),
        Status (stim). Annotations: one per status event, named by
        :data:`STATUS_CODES` (the first two code-1 events are
        ``experiment_start`` and ``baseline_recording``, later ones
        ``rating_screen``), lasting until the next event; unknown codes are
        ``status/<code>``.

    Raises
    ------
    DataError
        Naming the file: missing or unreadable, no ``Status`` channel, EEG
        channels missing.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        raw = mne.io.read_raw_bdf(path, preload=True, stim_channel=None, verbose="error")
    except (ValueError, OSError, RuntimeError) as exc:
        raise DataError(f"{path}: not a readable BDF file ({exc})") from None
    status = [ch for ch in raw.ch_names if ch.lower() == "status"]
    if not status:
        raise DataError(f"{path}: no 'Status' trigger channel; channels are {raw.ch_names}")
    missing = [ch for ch in BDF_EEG_CHANNELS if ch not in raw.ch_names]
    if missing:
        raise DataError(f"{path}: EEG channels {missing} are missing; channels are {raw.ch_names}")
    types = {ch: "eeg" for ch in BDF_EEG_CHANNELS}
    types.update({ch: t for ch, t in _BDF_TYPES.items() if ch in raw.ch_names})
    types[status[0]] = "stim"
    for ch in raw.ch_names:
        types.setdefault(ch, "misc")
    raw.set_channel_types(types, on_unit_change="ignore", verbose="error")
    raw.set_montage(standard_montage(), verbose="error")
    events = mne.find_events(
        raw,
        stim_channel=status[0],
        mask=_STATUS_MASK,
        mask_type="and",
        consecutive=True,
        shortest_event=1,
        verbose="error",
    )
    raw.set_annotations(_status_annotations(events, raw.info["sfreq"], raw.n_times))
    return raw


def read_deap_bdf(path: str | Path, ratings: pd.DataFrame | str | Path) -> Session:
    """Read an original DEAP recording into a labelled session (trials from the status channel).

    Parameters
    ----------
    path
        The BDF file ``sXX.bdf``.
    ratings
        DEAP's ``participant_ratings.csv`` (path or table) with columns
        ``Participant_id``, ``Trial``, ``Valence``, ``Arousal``, ``Dominance``,
        ``Liking`` (``Experiment_id`` if present goes to ``info``); the rows of
        this subject (number from the file name) are matched to the video
        onsets in ``Trial`` (presentation) order.

    Returns
    -------
    Session
        EEG (32 channels, volts, 512 Hz), EDA (``GSR1`` converted from ohms
        to siemens), one trial per video onset: baseline = the preceding
        fixation (code 3), stimulus = the video until the next status event;
        ``extra`` holds ``"eog"`` (EXG1-4, V), ``"emg"`` (EXG5-8, V), ``"resp"``,
        ``"bvp"`` (Plet), ``"temp"``, ``"misc"`` (GSR2, Erg1, Erg2) and
        ``"stim"`` (the Status channel, annotated with the status events);
        ``info`` has ``liking``, ``experiment_id``, ``rating_scale``,
        ``binary_threshold``, ``exg_meaning``.

    Raises
    ------
    DataError
        Naming the file, subject and trial: a video without a preceding
        fixation, ratings missing for the subject or a count that differs
        from the number of videos, a non-positive GSR resistance.
    """
    path = Path(path)
    subject = _subject_id(path)
    raw = read_deap_bdf_raw(path)
    ann = raw.annotations
    videos = np.flatnonzero(ann.description == STATUS_CODES[4])
    if not videos.size:
        raise DataError(f"{path}: subject {subject}: no video onsets (status code 4)")
    table = _bdf_ratings(ratings, subject, len(videos), path)
    rows = []
    for trial, k in enumerate(videos, start=1):
        if k == 0 or ann.description[k - 1] != STATUS_CODES[3]:
            raise DataError(
                f"{path}: subject {subject}: trial {trial} (video at {ann.onset[k]:.2f} s) "
                "has no fixation (status 3) before it"
            )
        rows.append(
            {
                "trial": trial,
                "baseline_onset": ann.onset[k - 1],
                "baseline_duration": ann.onset[k] - ann.onset[k - 1],
                "stimulus_onset": ann.onset[k],
                "stimulus_duration": ann.duration[k],
            }
        )
    trials = pd.DataFrame(rows)
    for target in TARGETS[:3]:
        trials[target] = table[target.capitalize()].to_numpy(float)
    trials = trials[list(TRIAL_COLUMNS)]
    if "GSR1" not in raw.ch_names:
        raise DataError(f"{path}: subject {subject}: no 'GSR1' channel; channels are {raw.ch_names}")
    gsr = raw.get_data(picks="GSR1")
    if not (np.isfinite(gsr).all() and (gsr > 0).all()):
        raise DataError(f"{path}: subject {subject}: channel 'GSR1' (resistance, ohm) is non-positive or non-finite")
    annotations = trial_annotations(trials)
    eeg = _subset(raw, BDF_EEG_CHANNELS, annotations)
    eda = _raw(1.0 / gsr, ("GSR1",), "gsr", raw.info["sfreq"], annotations)
    extra = {}
    for slot, names in _BDF_SLOTS.items():
        present = [ch for ch in names if ch in raw.ch_names]
        if present:
            extra[slot] = _subset(raw, present, annotations)
    extra["stim"] = _subset(raw, [raw.ch_names[mne.pick_types(raw.info, stim=True)[0]]], raw.annotations)
    info = {
        "source": "DEAP (original BDF)",
        "file": str(path),
        "liking": table["Liking"].to_numpy(float).tolist(),
        "experiment_id": table["Experiment_id"].tolist() if "Experiment_id" in table else None,
        "rating_scale": RATING_SCALE,
        "binary_threshold": BINARY_THRESHOLD,
        "exg_meaning": BDF_EXG_MEANING,
    }
    return Session(subject=subject, eeg=eeg, eda=eda, trials=trials, info=info, extra=extra)


def _status_annotations(events: np.ndarray, sfreq: float, n_times: int) -> mne.Annotations:
    onsets = events[:, 0] / sfreq
    ends = np.append(onsets[1:], n_times / sfreq)
    names, ones = [], 0
    for code in events[:, 2]:
        if code == 1:
            ones += 1
            names.append(("experiment_start", "baseline_recording")[ones - 1] if ones <= 2 else "rating_screen")
        else:
            names.append(STATUS_CODES.get(int(code), f"status/{int(code)}"))
    return mne.Annotations(onsets, ends - onsets, names)


def _bdf_ratings(ratings: pd.DataFrame | str | Path, subject: str, n_videos: int, path: Path) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        source = Path(ratings)
        if not source.is_file():
            raise DataError(f"{source}: ratings file not found")
        ratings = pd.read_csv(source)
    needed = ["Participant_id", "Trial", "Valence", "Arousal", "Dominance", "Liking"]
    missing = [c for c in needed if c not in ratings.columns]
    if missing:
        raise DataError(f"{path}: subject {subject}: the ratings table lacks columns {missing}")
    number = int(subject[1:])
    table = ratings[pd.to_numeric(ratings["Participant_id"], errors="coerce") == number].sort_values("Trial")
    if len(table) != n_videos:
        raise DataError(
            f"{path}: subject {subject}: the ratings table has {len(table)} rows for participant {number} "
            f"but the recording has {n_videos} videos (status code 4)"
        )
    values = table[["Valence", "Arousal", "Dominance", "Liking"]].apply(pd.to_numeric, errors="coerce").to_numpy()
    _check_scale(values, path, subject, "ratings table")
    return table.reset_index(drop=True)


def _ratings(labels: Any, n_trials: int, path: Path, subject: str) -> np.ndarray:
    if not (isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.number)):
        raise DataError(f"{path}: subject {subject}: field 'labels' must be a numeric array")
    if labels.shape != (n_trials, len(TARGETS)):
        raise DataError(
            f"{path}: subject {subject}: field 'labels' has shape {labels.shape}; expected ({n_trials}, 4) "
            "= one [valence, arousal, dominance, liking] row per trial of 'data'"
        )
    values = labels.astype(float)
    _check_scale(values, path, subject, "field 'labels'")
    return values


def _check_scale(values: np.ndarray, path: Path, subject: str, where: str) -> None:
    low, high = RATING_SCALE
    bad = np.flatnonzero((~np.isfinite(values) | (values < low) | (values > high)).any(axis=1))
    if bad.size:
        raise DataError(
            f"{path}: subject {subject}: {where} has ratings missing or outside {low}-{high} "
            f"for trials {(bad + 1).tolist()}"
        )


def _subject_id(path: Path) -> str:
    match = re.fullmatch(r"s(\d+)", path.stem)
    if not match:
        raise DataError(f"{path}: DEAP files are named sNN.dat / sNN.bdf (subject number NN)")
    return f"S{int(match.group(1)):02d}"


def _subset(raw: mne.io.BaseRaw, names: Iterable[str], annotations: mne.Annotations) -> mne.io.RawArray:
    """Some channels of ``raw`` as a new Raw; ``raw.copy().pick`` would copy every channel first."""
    picks = [raw.ch_names.index(ch) for ch in names]
    out = mne.io.RawArray(raw.get_data(picks=picks), mne.pick_info(raw.info, picks), verbose="error")
    out.set_annotations(annotations)
    return out


def _raw(
    data: np.ndarray, names: tuple[str, ...], ch_types: str | list[str], sfreq: float, annotations: mne.Annotations
) -> mne.io.RawArray:
    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, ch_types), verbose="error")
    raw.set_annotations(annotations)
    return raw
