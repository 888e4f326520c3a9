"""One entry point for recorded data: :func:`read_session` picks the reader and returns a Session.

Formats, recognised by content first and by name second (``format=`` forces one):

===================  ==============================================  ==========================================
format               recognised by                                   reader
===================  ==============================================  ==========================================
``session-files``    a folder with ``<subject>_eeg.edf`` and         :func:`biosig.io.files.read_session_files`
                     ``<subject>_trials.csv`` (the package's own)
``e4``               a folder with Empatica E4 ``EDA.csv``,          :func:`biosig.io.wearables.read_e4`
                     ``BVP.csv``, ``ACC.csv``, ``TEMP.csv``,
                     ``HR.csv`` or ``IBI.csv``
``xdf``              ``XDF:`` magic, ``.xdf``                        :func:`biosig.io.xdf.read_xdf`
``mne``              EDF/BDF/GDF/FIF magic; ``.edf``, ``.bdf``,      :func:`biosig.io.mne_formats.read_mne`
                     ``.vhdr``, ``.set``, ``.fif(.gz)``, ``.gdf``,
                     ``.cnt``
``table``            Parquet magic, ``# Simple Text Format``;        :func:`biosig.io.wearables.read_table`
                     ``.csv``, ``.tsv``, ``.txt``, ``.parquet``
===================  ==============================================  ==========================================

Options (keyword arguments), by format; one that does not apply is a
:class:`~biosig.errors.ConfigError`:

* every format: ``subject`` (default: the subject in the file names, the
  BIDS ``sub-`` label, the folder or the file stem), ``format``;
* ``mne``, ``xdf``, ``table``: ``channel_types`` (channel -> ``eeg``,
  ``ecg``, ``eda``/``gsr``, ``eog``, ``emg``, ``resp``, ``bvp``/``ppg``,
  ``temp``, ``acc``, ``hr``, ``stim``, ``misc``);
* ``mne``: ``ratings`` (DataFrame or CSV path with ``trial``, ``valence``,
  ``arousal``, ``dominance``);
* ``xdf``: ``streams`` (names or types to keep), ``irregular_sfreq`` (Hz);
* ``table``: ``time_column``, ``time_unit``, ``sfreq``, ``dejitter``,
  ``names``, ``units`` (see :mod:`biosig.io.wearables`).

What every session read here has:

* one :class:`mne.io.Raw` per modality (EEG, ECG, EDA in the Session's
  fields; BVP, respiration, temperature, ... in ``Session.extra``), each at
  its own rate, in SI units, the EEG with the 10-05 montage;
* **one clock**: t = 0 s is the latest first sample among the EEG, ECG and
  EDA recordings (so each has data from 0 s), or the earliest first sample
  when there are none. Other modalities are cropped to it or padded with NaN
  (marked ``BAD_ACQ_SKIP``). Sample 0 of each modality lies within half a
  sample period of t = 0: ``info["start_offsets_s"]`` gives the exact offset
  per modality (0 for single-file formats);
* events (annotations, XDF markers, E4 tags and inter-beat intervals) as MNE
  annotations on every recording they fall in;
* a trial table built from ``baseline/T01`` + ``stimulus/T01`` annotations
  (the package's own convention) with the ``ratings`` option; without
  ratings or such annotations the table is empty (and a warning says why
  when the annotations were there);
* ``info["warnings"]``: everything dropped, assumed or resampled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import ConfigError, DataError
from biosig.io.channels import CORE_MODALITIES, MODALITY_TYPES, Recording, TimedSignal, set_standard_montage
from biosig.io.files import read_session_files
from biosig.io.mne_formats import MNE_FORMATS, mne_suffix, read_mne
from biosig.io.wearables import PARQUET_MAGIC, TABLE_SUFFIXES, is_e4_folder, is_opensignals, read_e4, read_table
from biosig.io.xdf import XDF_MAGIC, read_xdf
from biosig.session import TARGETS, Session, empty_trials

#: Format -> what it covers, for messages.
SUPPORTED_FORMATS: dict[str, str] = {
    "session-files": "folder with <subject>_eeg.edf + <subject>_trials.csv (biosig's own)",
    "e4": "Empatica E4 export folder (EDA.csv, BVP.csv, ACC.csv, TEMP.csv, HR.csv, IBI.csv, tags)",
    "xdf": "XDF / LabRecorder (.xdf)",
    "mne": "MNE-readable: " + ", ".join(sorted({f"{v} ({k})" for k, v in MNE_FORMATS.items()})),
    "table": "CSV/TSV/TXT, Parquet, OpenSignals text (.csv, .tsv, .txt, .parquet)",
}
_OPTIONS: dict[str, set[str]] = {
    "session-files": set(),
    "e4": set(),
    "xdf": {"channel_types", "streams", "irregular_sfreq"},
    "mne": {"channel_types", "ratings"},
    "table": {"channel_types", "time_column", "time_unit", "sfreq", "dejitter", "names", "units"},
}
_COMMON_OPTIONS = {"subject", "format"}
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (XDF_MAGIC, "xdf"),
    (b"0       ", "mne"),  # EDF
    (b"\xffBIOSEMI", "mne"),
    (b"GDF", "mne"),
    (b"\x00\x00\x00\x64", "mne"),  # FIF: the file id tag (kind 100) first
    (PARQUET_MAGIC, "table"),
)
# BrainVision files prefix a marker's type: "Comment/baseline/T01".
_TRIAL_EVENT = re.compile(r"^(?:Comment/)?(baseline|stimulus)/T(\d+)$")
_BIDS_SUBJECT = re.compile(r"(?:^|_)sub-([A-Za-z0-9]+)")


def read_session(path: str | Path, **options: Any) -> Session:
    """Read a recording into a :class:`~biosig.session.Session`, whatever its format.

    Parameters
    ----------
    path
        A file or a folder; see the module docstring for the formats.
    **options
        Reader options, by format (module docstring). ``format`` forces a
        reader (``"session-files"``, ``"e4"``, ``"xdf"``, ``"mne"``, ``"table"``).

    Returns
    -------
    Session
        The recording on one clock in SI units; ``info`` has ``source``,
        ``file``, ``warnings`` and ``start_offsets_s``.

    Raises
    ------
    DataError
        The path is missing or in no supported format (the message lists
        them), or the reader found bad data (the message names the file).
    ConfigError
        An option that the format does not take, or a bad option value.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    fmt = options.get("format") or detect_format(path)
    if fmt not in _OPTIONS:
        raise ConfigError(f"format={fmt!r}; allowed: {sorted(_OPTIONS)}")
    unknown = sorted(set(options) - _COMMON_OPTIONS - _OPTIONS[fmt])
    if unknown:
        raise ConfigError(
            f"options {unknown} do not apply to {path} (format {fmt!r}); it takes "
            f"{sorted(_COMMON_OPTIONS | _OPTIONS[fmt])}"
        )
    subject = options.get("subject") or _subject_from_path(path)
    if fmt == "session-files":
        return _read_session_files(path, options.get("subject"))
    if fmt == "mne":
        raws, notes = read_mne(path, options.get("channel_types"))
        info = {"source": "mne", "file": str(path), "warnings": notes, "start_offsets_s": dict.fromkeys(raws, 0.0)}
        return _session(subject, raws, info, options.get("ratings"))
    if fmt == "xdf":
        reader_options = {k: options[k] for k in ("streams", "channel_types", "irregular_sfreq") if k in options}
        recording = read_xdf(path, subject=subject, **reader_options)
    elif fmt == "e4":
        recording = read_e4(path, subject=subject)
    else:
        recording = read_table(path, subject=subject, **{k: options[k] for k in _OPTIONS["table"] if k in options})
    raws, info = assemble(recording)
    return _session(subject, raws, info, None)


def detect_format(path: Path) -> str:
    """The :data:`SUPPORTED_FORMATS` key for ``path``, by content then by name; DataError if none."""
    path = Path(path)
    if path.is_dir():
        if _project_subjects(path):
            return "session-files"
        if is_e4_folder(path):
            return "e4"
        raise DataError(f"{path}: a folder in no supported format; supported: {_supported()}")
    with path.open("rb") as f:
        head = f.read(8)
    for magic, fmt in _MAGICS:
        if head.startswith(magic):
            return fmt
    if is_opensignals(path):
        return "table"
    name = path.name.lower()
    if name.endswith((".xdf", ".xdfz")):
        return "xdf"
    if mne_suffix(path):
        return "mne"
    if name.endswith(TABLE_SUFFIXES):
        return "table"
    raise DataError(f"{path}: neither its content nor its name is a supported format; supported: {_supported()}")


def _supported() -> str:
    return "; ".join(f"{key}: {text}" for key, text in SUPPORTED_FORMATS.items())


def _subject_from_path(path: Path) -> str:
    name = path.name if path.is_dir() else path.name.split(".")[0]
    match = _BIDS_SUBJECT.search(name)
    return match.group(1) if match else name


# --------------------------------------------------------------------------- the package's own files


def _project_subjects(folder: Path) -> list[str]:
    eeg = {p.name[: -len("_eeg.edf")] for p in folder.glob("*_eeg.edf")}
    return sorted(s for s in eeg if (folder / f"{s}_trials.csv").is_file())


def _read_session_files(folder: Path, subject: str | None) -> Session:
    subjects = _project_subjects(folder)
    if subject is None:
        if len(subjects) != 1:
            raise DataError(f"{folder}: holds subjects {subjects}; pass subject= to pick one")
        subject = subjects[0]
    elif subject not in subjects:
        raise DataError(f"{folder}: no session files for subject {subject!r}; it has {subjects}")
    present = tuple(m for m in ("ecg", "eda") if (folder / f"{subject}_{m}.csv").is_file())
    session = read_session_files(folder, subject, modalities=present)
    session.info.update(source="session-files", file=str(folder), warnings=[])
    session.info["start_offsets_s"] = dict.fromkeys(session.modalities(), 0.0)
    return session


# --------------------------------------------------------------------------- one clock


def assemble(recording: Recording) -> tuple[dict[str, mne.io.BaseRaw], dict[str, Any]]:
    """Put a reader's signal blocks on one session clock (see the module docstring).

    Parameters
    ----------
    recording
        Blocks and events on the recording's clock.

    Returns
    -------
    raws
        One :class:`mne.io.RawArray` per modality key, sample 0 at (within
        half a sample of) t = 0, with the events and gaps as annotations.
    info
        ``recording.info`` plus ``start_offsets_s`` (modality -> time of its
        sample 0 on the session clock, s), ``clock_origin_s`` (t = 0 on the
        recording's clock) and ``extra_sources`` (extra key -> block source).

    Raises
    ------
    DataError
        No signal, two blocks of EEG, ECG or EDA, or an EEG/ECG/EDA block that
        ends before another begins.
    """
    info = dict(recording.info)
    notes = info.setdefault("warnings", [])
    blocks = _keyed(recording)
    if not blocks:
        raise DataError(f"{info.get('file', recording.subject)}: no signal to read (only events or empty streams)")
    core = [b for key, b in blocks.items() if key in CORE_MODALITIES]
    origin = max(b.start for b in core) if core else min(b.start for b in blocks.values())
    raws, offsets = {}, {}
    events = _events(recording.markers, origin)
    for key, block in blocks.items():
        shift = int(round((origin - block.start) * block.sfreq))
        n_channels, n_times = block.data.shape
        if shift >= n_times:
            message = (
                f"{block.source}: ends at {block.start + n_times / block.sfreq - origin:.3f} s on the session clock, "
                "before the EEG/ECG/EDA recordings all begin"
            )
            if key in CORE_MODALITIES:
                raise DataError(message + " (the recordings do not overlap)")
            notes.append(message + "; dropped")
            continue
        gaps = [(onset - shift / block.sfreq, duration) for onset, duration in block.gaps]
        if shift >= 0:
            data = block.data[:, shift:]
        else:
            data = np.concatenate([np.full((n_channels, -shift), np.nan), block.data], axis=1)
            gaps.insert(0, (0.0, -shift / block.sfreq))
        offsets[key] = float(block.start + shift / block.sfreq - origin)
        raw = mne.io.RawArray(
            data, mne.create_info(block.ch_names, block.sfreq, MODALITY_TYPES[block.modality]), verbose="error"
        )
        if recording.unix_clock:
            raw.set_meas_date(datetime.fromtimestamp(origin, tz=timezone.utc))
        raw.set_annotations(_annotations(events, gaps, raw.n_times / raw.info["sfreq"]))
        if block.modality == "eeg":
            set_standard_montage(raw)
        raws[key] = raw
    outside = _outside(events, raws)
    if outside:
        notes.append(f"{outside} events fall outside every recording on the session clock; dropped")
    info.update(
        start_offsets_s=offsets,
        clock_origin_s=origin,
        extra_sources={k: b.source for k, b in blocks.items() if k not in CORE_MODALITIES},
    )
    return raws, info


def _keyed(recording: Recording) -> dict[str, TimedSignal]:
    """Blocks by session key: the modality, numbered when several blocks share a non-core one."""
    by_modality: dict[str, list[TimedSignal]] = {}
    for block in recording.signals:
        by_modality.setdefault(block.modality, []).append(block)
    out = {}
    for modality, blocks in by_modality.items():
        if len(blocks) > 1 and modality in CORE_MODALITIES:
            raise DataError(
                f"{recording.info.get('file', recording.subject)}: {modality.upper()} comes from "
                f"{[b.source for b in blocks]}; keep one with streams=[...] or retype with channel_types"
            )
        for i, block in enumerate(blocks):
            out[modality if len(blocks) == 1 else f"{modality}_{i + 1}"] = block
    return out


def _events(markers: pd.DataFrame, origin: float) -> pd.DataFrame:
    duration = markers["duration"] if "duration" in markers else pd.Series(0.0, index=markers.index)
    return pd.DataFrame(
        {
            "onset": markers["time"].to_numpy(dtype=float) - origin,
            "duration": duration.fillna(0.0).to_numpy(dtype=float),
            "description": markers["description"].astype(str).to_numpy(),
        }
    )


def _annotations(events: pd.DataFrame, gaps: list[tuple[float, float]], length: float) -> mne.Annotations:
    inside = events[(events["onset"] >= 0) & (events["onset"] < length)]
    onsets = np.concatenate([inside["onset"].to_numpy(), [g[0] for g in gaps]])
    ends = np.minimum(onsets + np.concatenate([inside["duration"].to_numpy(), [g[1] for g in gaps]]), length)
    descriptions = [*inside["description"], *["BAD_ACQ_SKIP"] * len(gaps)]
    return mne.Annotations(onsets, ends - onsets, descriptions)


def _outside(events: pd.DataFrame, raws: Mapping[str, mne.io.BaseRaw]) -> int:
    longest = max((raw.n_times / raw.info["sfreq"] for raw in raws.values()), default=0.0)
    return int(((events["onset"] < 0) | (events["onset"] >= longest)).sum())


# --------------------------------------------------------------------------- trials


def trials_from_annotations(annotations: mne.Annotations, first_time: float, source: str) -> pd.DataFrame | None:
    """Trial timing from ``baseline/T01`` and ``stimulus/T01`` annotations, or None when there are none.

    Parameters
    ----------
    annotations
        The recording's annotations.
    first_time
        Time of the recording's first sample on the annotations' scale, s
        (:attr:`mne.io.Raw.first_time`).
    source
        The file, for messages.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``trial``, ``baseline_onset``, ``baseline_duration``,
        ``stimulus_onset``, ``stimulus_duration`` (s), one row per trial.

    Raises
    ------
    DataError
        A trial with two baselines or stimuli, or with only one of them.
    """
    parts: dict[int, dict[str, tuple[float, float]]] = {}
    for onset, duration, description in zip(annotations.onset, annotations.duration, annotations.description):
        match = _TRIAL_EVENT.match(str(description))
        if not match:
            continue
        kind, trial = match.group(1), int(match.group(2))
        if kind in parts.setdefault(trial, {}):
            raise DataError(f"{source}: two {kind}/T{trial:02d} annotations")
        parts[trial][kind] = (float(onset - first_time), float(duration))
    if not parts:
        return None
    incomplete = sorted(t for t, p in parts.items() if len(p) < 2)
    if incomplete:
        raise DataError(f"{source}: trials {incomplete} have a baseline or a stimulus annotation but not both")
    rows = [
        {
            "trial": trial,
            "baseline_onset": p["baseline"][0],
            "baseline_duration": p["baseline"][1],
            "stimulus_onset": p["stimulus"][0],
            "stimulus_duration": p["stimulus"][1],
        }
        for trial, p in sorted(parts.items())
    ]
    return pd.DataFrame(rows)


def _session(subject: str, raws: dict[str, mne.io.BaseRaw], info: dict[str, Any], ratings: Any) -> Session:
    first = next(iter(raws.values()))
    timing = trials_from_annotations(first.annotations, first.first_time, info["file"])
    trials = empty_trials()
    if timing is not None and ratings is not None:
        trials = timing.merge(_ratings(ratings, timing["trial"], info["file"]), on="trial")
    elif timing is not None:
        info["warnings"].append(
            f"{info['file']}: the annotations describe {len(timing)} trials but no ratings= was given; "
            "the trial table is empty (the timing stays in the annotations)"
        )
    elif ratings is not None:
        raise DataError(
            f"{info['file']}: ratings given but the recording has no baseline/Tnn + stimulus/Tnn annotations"
        )
    core = {m: raws.get(m) for m in CORE_MODALITIES}
    extra = {k: raw for k, raw in raws.items() if k not in CORE_MODALITIES}
    return Session(subject=subject, trials=trials, info=info, extra=extra, **core)


def _ratings(ratings: Any, trials: pd.Series, source: str) -> pd.DataFrame:
    """The ratings table for ``trials``: DataError naming what is missing, extra or not numeric."""
    if isinstance(ratings, pd.DataFrame):
        table, where = ratings, "ratings"
    else:
        where = str(ratings)
        try:
            table = pd.read_csv(ratings)
        except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"{where}: cannot read the ratings CSV ({exc})") from exc
    columns = ["trial", *TARGETS]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{where}: ratings lack columns {missing}; expected {columns}")
    table = table[columns].apply(pd.to_numeric, errors="coerce")
    if table.isna().any().any():
        rows = np.flatnonzero(table.isna().any(axis=1)).tolist()
        raise DataError(f"{where}: ratings have empty or non-numeric cells in rows {rows}")
    table["trial"] = table["trial"].astype(int)
    if table["trial"].duplicated().any():
        raise DataError(f"{where}: ratings repeat trials {sorted(set(table['trial'][table['trial'].duplicated()]))}")
    lacking = sorted(set(trials) - set(table["trial"]))
    surplus = sorted(set(table["trial"]) - set(trials))
    if lacking or surplus:
        raise DataError(
            f"{where}: ratings do not match the trials of {source}: no ratings for trials {lacking}, "
            f"ratings for trials the recording lacks {surplus}"
        )
    return table
