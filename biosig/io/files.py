"""Session files: EEG as EDF+, ECG and EDA as CSV, the trial table as CSV.

One folder holds any number of subjects, four files each:

* ``<subject>_eeg.edf``: EDF+ via :func:`mne.export.export_raw` (edfio), 16 bit
  with a per-channel physical range, channel types in the labels
  (``"EEG AF3"``) and the trial annotations;
* ``<subject>_ecg.csv`` and ``<subject>_eda.csv``: a ``time`` column in
  seconds (first sample at 0 s, regular), then one column per channel in the
  recording's SI unit (ECG volts, EDA siemens), written with ``%.10g``;
* ``<subject>_trials.csv``: the trial table, columns
  :data:`~biosig.session.TRIAL_COLUMNS`.

Every file is written under a temporary name in the same folder and moved into
place with :func:`os.replace`, so a reader never sees half a file. Reading
raises :class:`~biosig.errors.DataError` naming the file for a missing file,
an unreadable EDF, a missing or irregular ``time`` column and a channel
column with empty or non-numeric cells.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations, validate_trials

#: MNE channel type of each CSV modality.
CSV_CHANNEL_TYPES: dict[str, str] = {"ecg": "ecg", "eda": "gsr"}
_JITTER_TOLERANCE = 0.01  # largest allowed deviation of a time step, as a fraction of the sampling period
_TIME_FORMAT = "%.9f"  # ns resolution: sample times of rates like 128, 250, 256 Hz are exact
_VALUE_FORMAT = "%.10g"  # half a unit in the 10th digit: relative error below 1e-9
_CSV_BLOCK_ROWS = 16384  # rows formatted per write (a few MB of text)


def session_paths(folder: Path, subject: str) -> dict[str, Path]:
    """The four file paths of a subject in ``folder``, keyed ``eeg``, ``ecg``, ``eda``, ``trials``."""
    folder = Path(folder)
    return {
        "eeg": folder / f"{subject}_eeg.edf",
        "ecg": folder / f"{subject}_ecg.csv",
        "eda": folder / f"{subject}_eda.csv",
        "trials": folder / f"{subject}_trials.csv",
    }


def write_session_files(session: Session, folder: Path) -> dict[str, Path]:
    """Write a session as EDF (EEG) and CSV (ECG, EDA, trials), each file atomically.

    Parameters
    ----------
    session
        The session; a missing ECG or EDA recording is simply not written.
    folder
        Destination folder, created if needed. Existing files of the same
        subject are replaced.

    Returns
    -------
    dict of str to Path
        The written files, keyed ``eeg``, ``ecg``, ``eda`` (when present), ``trials``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = session_paths(folder, session.subject)
    written = {"eeg": _write_atomic(paths["eeg"], lambda tmp: _write_edf(session.eeg, tmp))}
    for name in CSV_CHANNEL_TYPES:
        raw = getattr(session, name)
        if raw is not None:
            written[name] = _write_atomic(paths[name], lambda tmp, raw=raw: _write_signal_csv(raw, tmp))
    # pandas' default float format is the shortest exact repr, so the table round-trips exactly.
    written["trials"] = _write_atomic(paths["trials"], lambda tmp: session.trials.to_csv(tmp, index=False))
    return written


def read_session_files(folder: Path, subject: str, modalities: Sequence[str] = ("ecg", "eda")) -> Session:
    """Read a session written by :func:`write_session_files`.

    Parameters
    ----------
    folder
        Folder holding the subject's files.
    subject
        Subject id, e.g. ``"S01"``.
    modalities
        Which CSV recordings (``"ecg"``, ``"eda"``) must be present; the EEG
        and the trial table always must.

    Returns
    -------
    Session
        EEG in volts with the template 10-05 montage and the file's
        annotations, ECG in volts, EDA in siemens (sampling rates inferred from
        the ``time`` columns), the trial table, and ``info["files"]`` (the
        paths read, as strings).

    Raises
    ------
    DataError
        Naming the file: missing, unreadable, irregular or missing ``time``
        column, empty or non-numeric channel cells, bad trial table.
    """
    unknown = sorted(set(modalities) - set(CSV_CHANNEL_TYPES))
    if unknown:
        raise DataError(f"unknown modalities {unknown}; CSV modalities are {sorted(CSV_CHANNEL_TYPES)}")
    paths = session_paths(folder, subject)
    eeg = _read_edf(paths["eeg"])
    trials = _read_trials(paths["trials"], subject)
    csv = {name: _read_signal_csv(paths[name], CSV_CHANNEL_TYPES[name]) for name in modalities}
    read = {"eeg": paths["eeg"], "trials": paths["trials"], **{name: paths[name] for name in modalities}}
    for raw in csv.values():
        raw.set_annotations(trial_annotations(trials))
    return Session(
        subject=subject,
        eeg=eeg,
        trials=trials,
        ecg=csv.get("ecg"),
        eda=csv.get("eda"),
        info={"files": {name: str(path) for name, path in read.items()}},
    )


# --------------------------------------------------------------------------- writing


def _write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    # The temporary name keeps the extension: some writers pick the format from it.
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:12]}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_edf(raw: mne.io.BaseRaw, path: Path) -> None:
    # Channelwise physical ranges: one flat or very noisy channel must not cost the others resolution.
    mne.export.export_raw(
        path, raw, fmt="edf", physical_range="channelwise", add_ch_type=True, overwrite=True, verbose="error"
    )


def _write_signal_csv(raw: mne.io.BaseRaw, path: Path) -> None:
    """The ``time`` column and one column per channel, byte for byte what :func:`numpy.savetxt` writes."""
    times = np.arange(raw.n_times) / raw.info["sfreq"]
    table = np.column_stack([times, raw.get_data().T])
    row = ",".join([_TIME_FORMAT] + [_VALUE_FORMAT] * len(raw.ch_names)) + "\n"
    with open(path, "w", encoding="ascii", newline="") as fh:
        fh.write(",".join(["time", *raw.ch_names]) + "\n")
        # One %-format call per block of rows instead of savetxt's call and write per row: 4x faster.
        for start in range(0, len(table), _CSV_BLOCK_ROWS):
            block = table[start : start + _CSV_BLOCK_ROWS]
            fh.write((row * len(block)) % tuple(block.ravel().tolist()))


# --------------------------------------------------------------------------- reading


def _require(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"{path}: file is missing")


def _read_edf(path: Path) -> mne.io.BaseRaw:
    _require(path)
    try:
        raw = mne.io.read_raw_edf(path, preload=True, infer_types=True, verbose="error")
    except (ValueError, OSError, RuntimeError) as exc:
        raise DataError(f"{path}: cannot read EDF ({exc})") from exc
    raw = drop_export_padding(raw)
    raw.set_montage(standard_montage(), on_missing="warn")
    return raw


def drop_export_padding(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """Crop the edge padding EDF export appends to fill the last data record (marked BAD_ACQ_SKIP).

    ``raw`` is cropped in place and returned. Every BAD_ACQ_SKIP annotation
    that ends at the last sample goes with it (mne-bids, reading a BIDS copy
    of such a file, holds the mark twice: the file's and ``events.tsv``'s).
    """
    period = 1.0 / raw.info["sfreq"]
    ann = raw.annotations
    starts = ann.onset - raw.first_time
    at_end = (ann.description == "BAD_ACQ_SKIP") & (np.abs(starts + ann.duration - raw.n_times * period) < period)
    if not at_end.any():
        return raw
    start = float(starts[at_end].min())
    raw.annotations.delete(np.flatnonzero(at_end))
    return raw.crop(tmax=start, include_tmax=False)


def _read_trials(path: Path, subject: str) -> pd.DataFrame:
    _require(path)
    try:
        table = pd.read_csv(path)
        return validate_trials(table, subject)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, DataError) as exc:
        raise DataError(f"{path}: bad trial table ({exc}); expected columns {list(TRIAL_COLUMNS)}") from exc


def _read_signal_csv(path: Path, ch_type: str) -> mne.io.RawArray:
    """A CSV recording as a RawArray, its sampling rate inferred from the ``time`` column."""
    _require(path)
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({exc})") from exc
    if len(table.columns) < 2 or table.columns[0] != "time":
        raise DataError(
            f"{path}: expected a 'time' column (s) followed by channel columns, got columns {list(table.columns)}"
        )
    values = table.apply(pd.to_numeric, errors="coerce")
    for column in values.columns:
        bad = np.flatnonzero(values[column].isna().to_numpy() | ~np.isfinite(values[column].to_numpy()))
        if bad.size:
            lines = (bad[:5] + 2).tolist()  # file line numbers: 1-based, after the header line
            raise DataError(
                f"{path}: column {column!r} has {bad.size} empty or non-numeric cells (lines {lines}"
                f"{', ...' if bad.size > 5 else ''})"
            )
    sfreq = _sampling_rate(values["time"].to_numpy(), path)
    channels = [str(c) for c in values.columns[1:]]
    info = mne.create_info(channels, sfreq, ch_type)
    return mne.io.RawArray(values[channels].to_numpy().T, info, verbose="error")


def _sampling_rate(times: np.ndarray, path: Path) -> float:
    """Sampling rate (Hz) of a regular time column that starts at 0 s; DataError otherwise."""
    if times.size < 2:
        raise DataError(f"{path}: need at least 2 samples to infer the sampling rate, got {times.size}")
    # The end points give the least rounding error; rounding to 1 µHz removes what is left.
    sfreq = round((times.size - 1) / (times[-1] - times[0]), 6) if times[-1] > times[0] else 0.0
    if not sfreq > 0:
        raise DataError(f"{path}: the time column does not increase ({times[0]} s to {times[-1]} s)")
    period = 1.0 / sfreq
    if abs(times[0]) > _JITTER_TOLERANCE * period:
        raise DataError(f"{path}: the time column starts at {times[0]} s; every recording must start at 0 s")
    deviation = np.abs(np.diff(times) - period)
    worst = int(np.argmax(deviation))
    if deviation[worst] > _JITTER_TOLERANCE * period:
        raise DataError(
            f"{path}: the time column is irregular: step {times[worst + 1] - times[worst]:.6g} s at line "
            f"{worst + 3} (t = {times[worst + 1]} s) where {period:.6g} s ({sfreq:g} Hz) is expected"
        )
    return sfreq
