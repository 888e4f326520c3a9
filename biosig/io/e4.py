"""Empatica E4 exports: one folder, one CSV file per sensor (:func:`read_e4`).

``EDA.csv``, ``BVP.csv``, ``TEMP.csv``, ``HR.csv`` and ``ACC.csv`` hold the
session start (unix s, UTC; one per column) in row 1, the rate (Hz) in row
2, then samples; ``IBI.csv`` holds ``<start>, IBI`` then ``t, ibi`` rows (beat
time after the start and the interval ending there, s); ``tags*.csv`` holds
button presses as unix times. They become: EDA in siemens (the file is µS),
``bvp`` (the PPG as stored), ``temp`` (°C), ``hr`` (bpm), ``acc`` in m/s²
(the file is 1/64 g), tags as ``tag`` events, and each inter-beat interval as
an ``IBI`` event spanning the interval (onset = beat time - ibi, duration =
ibi). The session starts at the EDA start; HR, which the E4 first reports
10 s in, is NaN before that (``BAD_ACQ_SKIP``). A sensor file with a header
but no samples, or an empty file, is dropped with a warning. A start time
that is no unix time between 1970 and 9999 is a
:class:`~biosig.errors.DataError` naming the file. Only regular files are
read (a named pipe called ``EDA.csv`` is not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.io.channels import Recording, TimedSignal, no_events
from biosig.io.clock import UNIX_TIME_END


#: E4 sensor file -> (modality, channel names, factor to the unit the session keeps).
E4_SIGNALS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "EDA.csv": ("eda", ("EDA",), 1e-6),
    "BVP.csv": ("bvp", ("BVP",), 1.0),
    "TEMP.csv": ("temp", ("TEMP",), 1.0),
    "HR.csv": ("hr", ("HR",), 1.0),
    "ACC.csv": ("acc", ("ACC_X", "ACC_Y", "ACC_Z"), 9.80665 / 64),
}
E4_FILES: tuple[str, ...] = (*E4_SIGNALS, "IBI.csv")


def is_e4_folder(folder: Path) -> bool:
    """Whether ``folder`` holds at least one E4 sensor file."""
    return folder.is_dir() and any((folder / name).is_file() for name in E4_FILES)


def read_e4(folder: Path, *, subject: str) -> Recording:
    """Read an Empatica E4 export folder (see the module docstring).

    Parameters
    ----------
    folder
        Folder with the E4 CSV files.
    subject
        Subject id for the session.

    Returns
    -------
    Recording
        On the unix clock: one block per sensor file, ``tag`` and ``IBI`` events.

    Raises
    ------
    DataError
        Naming the file: non-numeric cells, start times or rates that differ
        between columns, a start time outside 1970-9999, a wrong number of
        columns, a non-positive rate.
    """
    folder = Path(folder)
    notes: list[str] = []
    signals = []
    for name, (modality, channels, factor) in E4_SIGNALS.items():
        path = folder / name
        if path.is_file():
            signal = _read_e4_signal(path, modality, channels, factor, notes)
            if signal is not None:
                signals.append(signal)
    if not signals:
        raise DataError(f"{folder}: no E4 sensor file with samples (looked for {list(E4_SIGNALS)})")
    events = [_read_e4_ibi(folder / "IBI.csv", notes)] if (folder / "IBI.csv").is_file() else []
    events += [_read_e4_tags(path) for path in sorted(folder.glob("tags*.csv")) if path.is_file()]
    markers = pd.concat(events, ignore_index=True) if events else no_events()
    info = {"source": "empatica-e4", "file": str(folder), "warnings": notes}
    return Recording(subject, signals, markers, info, unix_clock=True)


def _numeric_csv(path: Path, notes: list[str]) -> pd.DataFrame | None:
    """All cells of a headerless CSV as floats; None (with a note) for an empty file."""
    try:
        table = pd.read_csv(path, header=None, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        notes.append(f"{path}: empty file; dropped")
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({exc})") from exc
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = np.argwhere(~np.isfinite(values.to_numpy(dtype=float)))
    if bad.size:
        row, col = bad[0]
        raise DataError(
            f"{path}: {len(bad)} empty or non-numeric cells (first at line {row + 1}, column {col + 1}: "
            f"{table.iat[row, col]!r})"
        )
    return values


def _read_e4_signal(
    path: Path, modality: str, channels: tuple[str, ...], factor: float, notes: list[str]
) -> TimedSignal | None:
    values = _numeric_csv(path, notes)
    if values is None:
        return None
    if values.shape[1] != len(channels):
        raise DataError(
            f"{path}: {values.shape[1]} columns where an E4 {path.name} has {len(channels)} ({list(channels)})"
        )
    if len(values) < 2:
        raise DataError(f"{path}: an E4 file needs the start time and the rate in its first two rows")
    start, rate = values.iloc[0].to_numpy(), values.iloc[1].to_numpy()
    if np.ptp(start) > 0 or np.ptp(rate) > 0:
        raise DataError(f"{path}: the columns disagree on the start time {start.tolist()} or rate {rate.tolist()}")
    if not rate[0] > 0:
        raise DataError(f"{path}: sampling rate {rate[0]} Hz in row 2 is not positive")
    _check_start(start[0], path)
    if len(values) < 4:
        notes.append(f"{path}: fewer than 2 samples; dropped")
        return None
    data = values.iloc[2:].to_numpy(dtype=float).T * factor
    return TimedSignal(str(path), modality, list(channels), data, float(rate[0]), float(start[0]))


def _check_start(start: float, path: Path) -> None:
    """DataError naming ``path`` when the start time in row 1 is no unix time (s) between 1970 and 9999."""
    if not 0 <= start < UNIX_TIME_END:
        raise DataError(
            f"{path}: start time {float(start)!r} in row 1 is no unix time between 1970 and 9999 "
            "(s since 1970-01-01 UTC)"
        )


def _read_e4_ibi(path: Path, notes: list[str]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, header=None, skipinitialspace=True, dtype=str)
    except pd.errors.EmptyDataError:
        notes.append(f"{path}: empty file; no IBI events")
        return no_events()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({exc})") from exc
    if table.shape[1] != 2:
        raise DataError(f"{path}: {table.shape[1]} columns where an E4 IBI.csv has 2 (time, IBI)")
    start = pd.to_numeric(table.iat[0, 0], errors="coerce")
    rows = table.iloc[1:].apply(pd.to_numeric, errors="coerce")
    bad = rows.isna().any(axis=1).to_numpy()
    if not np.isfinite(start) or bad.any():
        line = 1 if not np.isfinite(start) else int(np.flatnonzero(bad)[0]) + 2
        raise DataError(f"{path}: line {line} is not numeric (expected '<start>, IBI' then 'time, ibi' rows)")
    _check_start(start, path)
    beat, ibi = rows[0].to_numpy(float), rows[1].to_numpy(float)
    return pd.DataFrame({"time": start + beat - ibi, "description": "IBI", "duration": ibi})


def _read_e4_tags(path: Path) -> pd.DataFrame:
    try:
        values = pd.read_csv(path, header=None).iloc[:, 0]
    except pd.errors.EmptyDataError:  # no button press: the E4 writes an empty file
        return no_events()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({exc})") from exc
    times = pd.to_numeric(values, errors="coerce")
    if times.isna().any():
        raise DataError(f"{path}: line {int(np.flatnonzero(times.isna())[0]) + 1} is not a unix time")
    return pd.DataFrame({"time": times.to_numpy(float), "description": "tag", "duration": 0.0})

