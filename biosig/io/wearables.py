"""Wearable exports and plain tables: Empatica E4 folders, CSV/TSV/TXT, Parquet, OpenSignals text.

**Empatica E4** (:func:`read_e4`): one folder, one file per sensor.
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
but no samples, or an empty file, is dropped with a warning.

**Tables** (:func:`read_table`): one recording per file, a column per
channel and optionally a time column.

* The time column is ``time_column`` or the first column named ``time``,
  ``times``, ``t``, ``timestamp``, ``time_s``, ``seconds`` or ``datetime``;
  numbers are in ``time_unit`` (``"s"``, ``"ms"``, ``"us"``, ``"ns"``),
  text is parsed as date-times (UTC when no zone is given, which also sets
  the session's ``meas_date``).
* A regular time column (every step within 1 % of the mean) gives the rate.
  An irregular one is a :class:`~biosig.errors.DataError` naming the line,
  unless ``sfreq`` is given (linear interpolation onto that grid; the stamps
  must strictly increase) or ``dejitter=True`` (the samples are regular and
  only the clock is coarse, e.g. a 15.6 ms Windows timer: the rate is the
  slope of a least-squares line through the stamps, as pyxdf dejitters).
* Without a time column ``sfreq`` (Hz) is required.
* A file whose first row is all numbers has no header: channels are named
  ``names`` or ``CH1``, ``CH2``...
* Values are taken as SI unless ``units`` maps a channel to a unit
  (``{"EDA": "uS", "ECG": "mV"}``); channel types are inferred from the
  names, overridable with ``channel_types``.
* OpenSignals "Simple Text Format" files (BITalino; ``# Simple Text Format``
  first line) give their rate and labels in the header.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.errors import ConfigError, DataError
from biosig.io.channels import Recording, TimedSignal, no_events, plan_channels, si_factor

#: E4 sensor file -> (modality, channel names, factor to the unit the session keeps).
E4_SIGNALS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "EDA.csv": ("eda", ("EDA",), 1e-6),
    "BVP.csv": ("bvp", ("BVP",), 1.0),
    "TEMP.csv": ("temp", ("TEMP",), 1.0),
    "HR.csv": ("hr", ("HR",), 1.0),
    "ACC.csv": ("acc", ("ACC_X", "ACC_Y", "ACC_Z"), 9.80665 / 64),
}
E4_FILES: tuple[str, ...] = (*E4_SIGNALS, "IBI.csv")
TIME_COLUMNS: tuple[str, ...] = ("time", "times", "t", "timestamp", "time_s", "seconds", "datetime")
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet")
OPENSIGNALS_MAGIC = "# Simple Text Format"
PARQUET_MAGIC = b"PAR1"
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_JITTER_TOLERANCE = 0.01  # largest deviation of a time step from the mean, as a fraction of it


# --------------------------------------------------------------------------- Empatica E4


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
        between columns, a wrong number of columns, a non-positive rate.
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
    events += [_read_e4_tags(path) for path in sorted(folder.glob("tags*.csv"))]
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
    if len(values) < 4:
        notes.append(f"{path}: fewer than 2 samples; dropped")
        return None
    data = values.iloc[2:].to_numpy(dtype=float).T * factor
    return TimedSignal(str(path), modality, list(channels), data, float(rate[0]), float(start[0]))


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


# --------------------------------------------------------------------------- tables


def is_opensignals(path: Path) -> bool:
    """Whether ``path`` is an OpenSignals Simple Text Format file."""
    with path.open("rb") as f:
        return f.read(len(OPENSIGNALS_MAGIC)).decode("latin-1") == OPENSIGNALS_MAGIC


def read_table(
    path: Path,
    *,
    subject: str,
    time_column: str | None = None,
    time_unit: str = "s",
    sfreq: float | None = None,
    dejitter: bool = False,
    names: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    channel_types: Mapping[str, str] | None = None,
) -> Recording:
    """Read a CSV/TSV/TXT, Parquet or OpenSignals text recording (see the module docstring).

    Parameters
    ----------
    path
        The file.
    subject
        Subject id for the session.
    time_column
        Name of the time column; default the first of :data:`TIME_COLUMNS` present.
    time_unit
        Unit of a numeric time column: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``.
    sfreq
        Sampling rate, Hz: required without a time column; with an irregular
        one, the rate the data are interpolated to.
    dejitter
        Treat an irregular (even repeating) time column as a coarse clock on
        regular samples.
    names
        Channel names for a file without a header row.
    units
        Channel -> unit of its values (``"uV"``, ``"mV"``, ``"uS"``...), scaled to SI.
    channel_types
        Channel -> type overrides.

    Returns
    -------
    Recording
        The recording's blocks, one per modality, on the time column's clock.

    Raises
    ------
    DataError
        Naming the file and the line or column: unparsable, non-numeric or
        empty cells, an irregular or repeating time column without ``sfreq``
        or ``dejitter``, no time column and no ``sfreq``, fewer than 2 samples.
    ConfigError
        An unknown ``time_unit`` or unit in ``units``.
    """
    path = Path(path)
    if time_unit not in _TIME_UNITS:
        raise ConfigError(f"time_unit={time_unit!r}; allowed: {sorted(_TIME_UNITS)}")
    notes: list[str] = []
    if is_opensignals(path):
        table, file_rate = _read_opensignals(path, names)
        if sfreq is None:
            sfreq = file_rate
    else:
        table = _load_table(path, names)
    if time_column is None:
        time_column = next((c for c in table.columns if str(c).strip().lower() in TIME_COLUMNS), None)
    elif time_column not in table.columns:
        raise DataError(f"{path}: no column {time_column!r}; it has {list(table.columns)}")
    channels = [c for c in table.columns if c != time_column]
    if not channels:
        raise DataError(f"{path}: no channel column besides the time column {time_column!r}")
    if len(table) < 2:
        raise DataError(f"{path}: need at least 2 samples, got {len(table)}")
    data = _channel_values(table[channels], path)
    unix_clock = False
    if time_column is None:
        if sfreq is None:
            raise DataError(
                f"{path}: no time column (looked for {list(TIME_COLUMNS)}); pass time_column= or sfreq= (Hz)"
            )
        rate, start = _positive_rate(sfreq, path), 0.0
    else:
        times, unix_clock = _times(table[time_column], time_unit, path, time_column)
        data, rate, start = _regularise(times, data, sfreq, dejitter, path, notes)
    data *= _unit_factors([str(c) for c in channels], units or {}, path)[:, None]
    plan = plan_channels([str(c) for c in channels], None, channel_types, source=str(path))
    notes += plan.warnings
    signals = [
        TimedSignal(str(path), modality, [plan.names[i] for i in picks], data[picks], rate, start)
        for modality, picks in plan.groups().items()
    ]
    info = {"source": "table", "file": str(path), "warnings": notes}
    return Recording(subject, signals, no_events(), info, unix_clock=unix_clock)


def _load_table(path: Path, names: Sequence[str] | None) -> pd.DataFrame:
    try:
        with path.open("rb") as f:
            magic = f.read(len(PARQUET_MAGIC))
        if magic == PARQUET_MAGIC:
            return _named(pd.read_parquet(path), names, path, header_row=True)
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            first = f.readline()
        sep = next((s for s in ("\t", ",", ";") if s in first), None)
        cells = next(csv.reader([first], delimiter=sep)) if sep else first.split()
        header_row = not _all_numbers(cells)
        table = pd.read_csv(path, sep=sep or r"\s+", header=0 if header_row else None)
    except Exception as exc:  # pandas/pyarrow on an untrusted file: any parse failure is bad data
        raise DataError(f"{path}: cannot parse the table ({type(exc).__name__}: {exc})") from exc
    if table.columns.duplicated().any():
        raise DataError(f"{path}: duplicate column names {list(table.columns[table.columns.duplicated()])}")
    return _named(table, names, path, header_row=header_row)


def _all_numbers(cells: Sequence[str]) -> bool:
    return bool(cells) and not pd.to_numeric(pd.Series(cells), errors="coerce").isna().any()


def _named(table: pd.DataFrame, names: Sequence[str] | None, path: Path, header_row: bool) -> pd.DataFrame:
    if table.shape[1] == 0:
        raise DataError(f"{path}: the table has no columns")
    if names is None:
        if not header_row:
            table.columns = [f"CH{i + 1}" for i in range(table.shape[1])]
        return table
    if len(names) != table.shape[1]:
        raise DataError(f"{path}: names= gives {len(names)} names for {table.shape[1]} columns")
    table.columns = [str(n) for n in names]
    return table


def _read_opensignals(path: Path, names: Sequence[str] | None) -> tuple[pd.DataFrame, float | None]:
    """An OpenSignals Simple Text Format file: ``#`` header lines with rate and labels, then samples."""
    header: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].partition(":=")
            if sep:
                header[key.strip().lower()] = value.strip()
    try:
        table = pd.read_csv(path, sep=r"\s+", comment="#", header=None, engine="python")
        rate = float(header["sampling rate (hz)"]) if "sampling rate (hz)" in header else None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse OpenSignals text ({exc})") from exc
    labels = header.get("labels", "").split()
    if names is None and len(labels) == table.shape[1]:
        names = labels
    return _named(table, names, path, header_row=False), rate


def _channel_values(table: pd.DataFrame, path: Path) -> np.ndarray:
    """Channel columns as a float array ``(n_channels, n_times)``; DataError naming a bad cell."""
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        row, col = bad[0]
        raise DataError(
            f"{path}: column {table.columns[col]!r} has {int((~np.isfinite(values[:, col])).sum())} empty or "
            f"non-numeric cells (first at data row {row + 1}: {table.iat[row, col]!r})"
        )
    return values.T.copy()


def _times(column: pd.Series, unit: str, path: Path, name: str) -> tuple[np.ndarray, bool]:
    """Seconds, and whether they are unix time (a date-time column)."""
    numbers = pd.to_numeric(column, errors="coerce")
    if not numbers.isna().all():
        bad = np.flatnonzero(~np.isfinite(numbers.to_numpy(dtype=float)))
        if bad.size:
            rows = (bad[:5] + 1).tolist()
            raise DataError(f"{path}: time column {name!r} has empty or non-numeric cells at data rows {rows}")
        return numbers.to_numpy(dtype=float) * _TIME_UNITS[unit], False
    stamps = pd.to_datetime(column, format="mixed", utc=True, errors="coerce")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        rows = (bad[:5] + 1).tolist()
        raise DataError(f"{path}: time column {name!r} has cells that are neither numbers nor date-times (rows {rows})")
    unix = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    return unix, True


def _positive_rate(sfreq: float, path: Path) -> float:
    try:
        rate = float(sfreq)
    except (TypeError, ValueError):
        rate = float("nan")
    if not (np.isfinite(rate) and rate > 0):
        raise ConfigError(f"sfreq={sfreq!r} for {path}: must be a positive rate in Hz")
    return rate


def _regularise(
    times: np.ndarray, data: np.ndarray, sfreq: float | None, dejitter: bool, path: Path, notes: list[str]
) -> tuple[np.ndarray, float, float]:
    """Data on a regular grid, its rate (Hz) and start (s) from a time column."""
    steps = np.diff(times)
    span = times[-1] - times[0]
    mean = span / (len(times) - 1)
    worst = int(np.argmax(np.abs(steps - mean)))
    regular = mean > 0 and abs(steps[worst] - mean) <= _JITTER_TOLERANCE * mean
    if regular:
        rate = round(1.0 / mean, 6)  # removes the rounding error of printed time stamps
        if sfreq is not None and abs(_positive_rate(sfreq, path) / rate - 1) > _JITTER_TOLERANCE:
            raise DataError(f"{path}: the time column is regular at {rate:g} Hz but sfreq={sfreq} was given")
        return data, rate, float(times[0])
    where = f"step {steps[worst]:.6g} s at data row {worst + 2} (t = {times[worst + 1]})"
    if dejitter:
        if np.any(steps < 0) or not span > 0:
            raise DataError(f"{path}: the time column goes back ({where}); cannot dejitter it")
        slope, intercept = np.polyfit(np.arange(len(times)), times, 1)
        residual = np.abs(times - (intercept + slope * np.arange(len(times)))).max()
        notes.append(f"{path}: time column dejittered to {1 / slope:.6g} Hz (largest stamp error {residual:.4g} s)")
        return data, float(1.0 / slope), float(intercept)
    if sfreq is not None:
        if np.any(steps <= 0):
            bad = int(np.flatnonzero(steps <= 0)[0])
            raise DataError(
                f"{path}: the time column repeats or goes back at data row {bad + 2} (t = {times[bad + 1]} after "
                f"{times[bad]}); cannot resample it (dejitter=True treats it as a coarse clock on regular samples)"
            )
        rate = _positive_rate(sfreq, path)
        grid = times[0] + np.arange(int(np.floor(span * rate + 1e-9)) + 1) / rate
        notes.append(f"{path}: irregular time column linearly resampled to {rate:g} Hz")
        return np.vstack([np.interp(grid, times, row) for row in data]), rate, float(times[0])
    kind = "repeats or goes back" if np.any(steps <= 0) else "is irregular"
    raise DataError(
        f"{path}: the time column {kind}: {where} where the mean step is {mean:.6g} s; pass sfreq= (Hz) to "
        "resample onto a regular grid, or dejitter=True if only the clock is coarse"
    )


def _unit_factors(channels: list[str], units: Mapping[str, str], path: Path) -> np.ndarray:
    missing = sorted(set(units) - set(channels))
    if missing:
        raise DataError(f"{path}: units names columns {missing} that the file lacks; it has {channels}")
    factors = np.ones(len(channels))
    for i, name in enumerate(channels):
        if name in units:
            factor = si_factor(units[name])
            if factor is None:
                raise ConfigError(f"units[{name!r}] = {units[name]!r} is not a known unit (V, mV, uV, S, uS...)")
            factors[i] = factor
    return factors
