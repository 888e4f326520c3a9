"""Times of day in a label table (``HH:MM[:SS]``) placed on the session clock.

A recording's start time of day is its ``meas_date`` (UTC, as the readers
store it; an E4 export's start is a unix time). A table's times of day are
read in the same zone: a lab in another zone converts its log first (Irish
time is UTC in winter).

Logs often write afternoon times without AM/PM (``01:30`` for 13:30). A time
with hour 1 to 12 and no AM/PM is therefore ambiguous by 12 h, one with hour
0 or 13 to 23 (a 24-hour clock) or with AM/PM by a day. An onset becomes the
candidate nearest the recording's start (within half the ambiguity before or
after it); an end becomes the first candidate after its onset, so an interval
that crosses noon keeps its length.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from biosig.errors import DataError
from biosig.session import Session

_DAY = 86400.0
_HALF_DAY = 43200.0
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d*)?))?\s*([AaPp][Mm])?\s*$")

def start_of_day(session: Session, path: Path) -> float:
    """The recording's start (t = 0) as seconds after midnight UTC; DataError naming ``path`` when unknown."""
    for raw in session.modalities().values():
        date = raw.info["meas_date"]
        if date is not None:
            date = date.astimezone(dt.timezone.utc)
            return date.hour * 3600 + date.minute * 60 + date.second + date.microsecond / 1e6
    raise DataError(
        f"{path}: the recording has no start date and time (meas_date), so the table's times of day "
        "(trials.table.time_of_day) cannot be placed on it"
    )

def parse_time_of_day(cell: Any) -> tuple[float, float] | None:
    """A table cell as (seconds after midnight, ambiguity in s: 12 h or 24 h), or None when it is no time.

    Accepts :class:`datetime.time`, :class:`datetime.datetime` (its time),
    :class:`datetime.timedelta` and text ``HH:MM[:SS[.fff]]`` with an optional
    ``AM``/``PM``.
    """
    if isinstance(cell, dt.datetime):
        cell = cell.time()
    if isinstance(cell, dt.time):
        return _with_ambiguity(cell.hour, cell.minute * 60 + cell.second + cell.microsecond / 1e6, None)
    if isinstance(cell, (dt.timedelta, pd.Timedelta)):
        seconds = pd.Timedelta(cell).total_seconds()
        return _with_ambiguity(int(seconds // 3600), seconds % 3600, None) if 0 <= seconds < _DAY else None
    if isinstance(cell, str):
        match = _CLOCK.match(cell)
        if match is None:
            return None
        hour, minute, second, half = match.groups()
        if int(minute) > 59 or float(second or 0) >= 60 or int(hour) > 23:
            return None
        return _with_ambiguity(int(hour), int(minute) * 60 + float(second or 0), half)
    return None

def onset_on_clock(time_of_day: float, ambiguity: float, start: float) -> float:
    """The onset (s on the session clock) of ``time_of_day`` nearest the recording's ``start`` (s after midnight)."""
    return float((time_of_day - start + ambiguity / 2) % ambiguity - ambiguity / 2)

def end_on_clock(time_of_day: float, ambiguity: float, start: float, onset: float) -> float:
    """The end (s on the session clock) of ``time_of_day``: its first candidate after ``onset`` (s)."""
    return float(onset + (time_of_day - start - onset) % ambiguity)

def _with_ambiguity(hour: int, rest: float, half: str | None) -> tuple[float, float]:
    if half is not None:
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
        return hour * 3600 + rest, _DAY
    return hour * 3600 + rest, (_HALF_DAY if 1 <= hour <= 12 else _DAY)

