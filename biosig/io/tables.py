"""Plain tables: CSV/TSV/TXT, Parquet and OpenSignals text (:func:`read_table`).

One recording per file, a column per channel and optionally a time column.

* The time column is ``time_column`` or the first column named ``time``,
  ``times``, ``t``, ``timestamp``, ``time_s``, ``seconds`` or ``datetime``;
  numbers are in ``time_unit`` (``"s"``, ``"ms"``, ``"us"``, ``"ns"``),
  text is parsed as date-times (UTC when no zone is given, which also sets
  the session's ``meas_date``; pandas holds 1677 to 2262, a date-time
  outside that is a :class:`~biosig.errors.DataError`).
* A regular time column (every step within 1 % of the mean) gives the rate.
  An irregular one is a :class:`~biosig.errors.DataError` naming the line,
  unless ``sfreq`` is given (linear interpolation onto that grid; the stamps
  must strictly increase) or ``dejitter=True`` (the samples are regular and
  only the clock is coarse, e.g. a 15.6 ms Windows timer: the rate is the
  slope of a least-squares line through the stamps, as pyxdf dejitters).
* Without a time column ``sfreq`` (Hz) is required.
* A file whose first row is all numbers has no header: channels are named
  ``names`` or ``CH1``, ``CH2``...; two columns of the same name (in the
  header or in ``names``) are a :class:`~biosig.errors.DataError` naming it.
* Values are taken as SI unless ``units`` maps a channel to a unit
  (``{"EDA": "uS", "ECG": "mV"}``); channel types are inferred from the
  names, overridable with ``channel_types``.
* OpenSignals "Simple Text Format" files (BITalino; ``# Simple Text Format``
  first line) give their rate and labels in the header.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.errors import ConfigError, DataError
from biosig.io.channels import ChannelPlan, Recording, TimedSignal, no_events, plan_channels, si_factor

TIME_COLUMNS: tuple[str, ...] = ("time", "times", "t", "timestamp", "time_s", "seconds", "datetime")
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet")
OPENSIGNALS_MAGIC = "# Simple Text Format"
PARQUET_MAGIC = b"PAR1"
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_DATE_RANGE = "the years 1677 to 2262 that pandas holds"
_JITTER_TOLERANCE = 0.01  # largest deviation of a time step from the mean, as a fraction of it


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
    notes += _assumed_units([str(c) for c in channels], plan, units or {}, path)
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
    if header_row:
        _check_unique([c.strip() for c in cells], path, "the header row")  # pandas would rename to 'ECG.1'
    return _named(table, names, path, header_row=header_row)


def _check_unique(columns: Sequence[object], path: Path, where: str) -> None:
    """DataError naming the column names that ``where`` (the header, ``names=``...) repeats."""
    repeated = sorted(name for name, count in Counter(str(c) for c in columns).items() if count > 1)
    if repeated:
        raise DataError(f"{path}: {where} has the column names {repeated} more than once; each channel needs its own")


def _all_numbers(cells: Sequence[str]) -> bool:
    return bool(cells) and not pd.to_numeric(pd.Series(cells), errors="coerce").isna().any()


def _named(table: pd.DataFrame, names: Sequence[str] | None, path: Path, header_row: bool) -> pd.DataFrame:
    if table.shape[1] == 0:
        raise DataError(f"{path}: the table has no columns")
    if names is None:
        if not header_row:
            table.columns = [f"CH{i + 1}" for i in range(table.shape[1])]
        _check_unique(list(table.columns), path, "the table")
        return table
    if len(names) != table.shape[1]:
        raise DataError(f"{path}: names= gives {len(names)} names for {table.shape[1]} columns")
    _check_unique(list(names), path, "the list of channel names")
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
    stamps = _date_times(column, path, name)
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        rows = (bad[:5] + 1).tolist()
        raise DataError(f"{path}: time column {name!r} has cells that are neither numbers nor date-times (rows {rows})")
    try:
        unix = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    except (OverflowError, ValueError) as exc:  # pandas' OutOfBoundsDatetime is a ValueError
        raise DataError(f"{path}: time column {name!r} has date-times outside {_DATE_RANGE} ({exc})") from exc
    return unix, True


def _date_times(column: pd.Series, path: Path, name: str) -> pd.Series:
    """A text time column as UTC date-times (NaT where a cell is none); DataError outside 1677-2262."""
    try:
        return pd.to_datetime(column, format="mixed", utc=True, errors="coerce")
    except (OverflowError, ValueError) as exc:  # pandas' OutOfBoundsDatetime is a ValueError
        raise DataError(f"{path}: time column {name!r} has date-times outside {_DATE_RANGE} ({exc})") from exc


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


#: SI unit a physiological column without ``units`` is taken in (the documented default).
_SI_UNITS = {"eeg": "V", "ecg": "V", "eog": "V", "emg": "V", "eda": "S"}
_EXAMPLE_UNITS = {"V": "mV", "S": "uS"}


def _assumed_units(columns: list[str], plan: ChannelPlan, units: Mapping[str, str], path: Path) -> list[str]:
    """One warning per modality whose columns (as the file names them) had no unit given and were taken as SI."""
    assumed: dict[str, list[str]] = {}
    for name, modality in zip(columns, plan.modalities, strict=True):
        if modality in _SI_UNITS and name not in units:
            assumed.setdefault(modality, []).append(name)
    return [
        f"{path}: no unit given for the {modality} column(s) {names}: taken as {_SI_UNITS[modality]} (SI, the "
        f"documented default); pass units= (e.g. {{{names[0]!r}: {_EXAMPLE_UNITS[_SI_UNITS[modality]]!r}}}) if they are not"
        for modality, names in assumed.items()
    ]


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
