"""DEAP's original recordings ``sXX.bdf`` -> annotated Raw and labelled sessions.

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

from collections.abc import Iterable
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from biosig.datasets.deap.common import (
    BINARY_THRESHOLD,
    EEG_CHANNELS,
    RATING_SCALE,
    SLOT_TYPES,
    TARGETS,
    check_scale,
    raw_array,
    subject_id,
)
from biosig.errors import DataError
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

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
_BDF_TYPES: dict[str, str] = {
    "GSR1": "misc",
    **{ch: SLOT_TYPES[slot] for slot, names in _BDF_SLOTS.items() for ch in names},
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
    subject = subject_id(path)
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
    eda = raw_array(1.0 / gsr, ("GSR1",), "gsr", raw.info["sfreq"], annotations)
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
    check_scale(values, path, subject, "ratings table")
    return table.reset_index(drop=True)


def _subset(raw: mne.io.BaseRaw, names: Iterable[str], annotations: mne.Annotations) -> mne.io.RawArray:
    """Some channels of ``raw`` as a new Raw; ``raw.copy().pick`` would copy every channel first."""
    picks = [raw.ch_names.index(ch) for ch in names]
    out = mne.io.RawArray(raw.get_data(picks=picks), mne.pick_info(raw.info, picks), verbose="error")
    out.set_annotations(annotations)
    return out
