"""Bounded ring buffers of time-stamped samples, one per stream, with blocking reads.

A :class:`RingBuffer` keeps the last ``capacity`` samples of a stream
``(capacity, n_channels)`` with their LSL stamps, addressed by absolute
sample counts (sample *k* is the *k*-th ever appended). The writer (a stream
reader thread) appends chunks; a consumer keeps a :class:`Cursor` and
:meth:`~RingBuffer.read` returns everything new since it, after
:meth:`~RingBuffer.wait` blocked on a condition variable until there is
something (no polling). Memory is bounded: when a consumer falls more than
``capacity`` samples behind, the oldest samples are overwritten and the read
says how many it missed. Events (a stream lost or recovered) are stored at
the sample position where they happened, so a consumer sees them in order
with the data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biosig.errors import DataError


@dataclass(frozen=True)
class Event:
    """Something that happened to a stream or the pipeline, for the marker stream.

    Attributes
    ----------
    kind
        ``stream_lost``, ``stream_recovered`` (stream readers); ``gap``,
        ``clock_jump``, ``bad_window``, ``quality_restored``, ``channel_bad``,
        ``channel_restored`` (the online pipeline); ``calibrating`` (a rest
        calibration started or restarted) and ``calibrated`` (its statistics
        are in force; :mod:`streaming.calibrate`); ``buffer_overrun`` and
        ``layout_changed`` (the live session).
    time
        LSL time of the event, s.
    detail
        JSON-able details (stream, reason, channels, jump size in s...).
    """

    kind: str
    time: float
    detail: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One readable line, e.g. ``"bad window: quality 0.93 (flat: F8)"``, for consoles and event lists.

        The marker stream keeps the structured JSON form
        (:func:`streaming.outlet.marker_text`); kinds without a rendering of
        their own read ``"kind: key=value, ..."``.
        """
        d = self.detail
        render = _DESCRIBE.get(self.kind)
        try:
            if render is not None:
                return render(d)
        except (KeyError, TypeError, ValueError):
            pass  # unexpected details: the generic form below still says everything
        fields = ", ".join(f"{k}={_short(v)}" for k, v in d.items())
        return f"{self.kind.replace('_', ' ')}: {fields}" if fields else self.kind.replace("_", " ")


def _short(value: Any) -> str:
    """A detail value for reading: floats to 2 decimals, lists joined by commas."""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ",".join(_short(v) for v in value)
    return str(value)


def _peripheral_rest(d: dict[str, Any]) -> str:
    """The ECG/EDA part of a ``calibrated`` event: tiles, and the features no tile gave a level for."""
    if "peripheral_tiles" not in d:
        return ""
    tiles = d["peripheral_tiles"]
    missing = d.get("no_usable_tile") or ()
    text = f"; ECG/EDA rest level over {tiles} tile{'' if tiles == 1 else 's'}"
    return text + (f" (no usable tile: {', '.join(missing)})" if missing else "")


def _quality(d: dict[str, Any]) -> str:
    reasons = "; ".join(d.get("reasons") or ())
    return f"quality {d['quality']:.2f}" + (f" ({reasons})" if reasons else "")


def _layout(d: dict[str, Any]) -> str:
    old, new = list(d["old_channels"]), list(d["new_channels"])
    what = [f"{len(old)} -> {len(new)} channels"] if len(old) != len(new) else []
    added, removed = [c for c in new if c not in old], [c for c in old if c not in new]
    what += [f"added {','.join(added)}"] if added else []
    what += [f"removed {','.join(removed)}"] if removed else []
    if not added and not removed and old != new:
        what.append("channels reordered")
    if d.get("old_rate") != d.get("new_rate"):
        what.append(f"rate {d['old_rate']:g} -> {d['new_rate']:g} Hz")
    return f"layout changed: {d['stream']} came back with {'; '.join(what) or 'another layout'}; stopping"


_DESCRIBE: dict[str, Any] = {
    "stream_lost": lambda d: f"stream lost: {d['stream']} ({d['reason']})",
    "stream_recovered": lambda d: f"stream recovered: {d['stream']}",
    "gap": lambda d: f"gap of {d['jump_s']:.2f} s in the stamps: filters and windows restart",
    "clock_jump": lambda d: f"clock jump of {d['jump_s']:+.2f} s: filters and windows restart",
    "bad_window": lambda d: f"bad window: {_quality(d)}",
    "quality_restored": lambda d: f"quality restored: {d['quality']:.2f}",
    "channel_bad": lambda d: f"channel {d['channel']} bad ({'; '.join(d['reasons']) or 'bad'}): "
    + ("interpolated" if d.get("interpolated") else "not interpolated") + " until it recovers",
    "channel_restored": lambda d: f"channel {d['channel']} restored",
    "calibrating": lambda d: f"calibrating: {d['seconds']:g} s of rest needed ({d['reason']})",
    "calibrated": lambda d: f"calibrated on {d['seconds']:g} s of rest" + _peripheral_rest(d),
    "buffer_overrun": lambda d: f"buffer overrun: {d['samples']} samples of {d['stream']} lost (processing behind)",
    "layout_changed": _layout,
}


@dataclass
class Cursor:
    """A consumer's position: the next sample count and the next event number to read."""

    sample: int = 0
    event: int = 0


@dataclass
class Read:
    """What :meth:`RingBuffer.read` returns.

    Attributes
    ----------
    start
        Absolute count of the first returned sample.
    data
        ``(n_samples, n_channels)`` copy.
    stamps
        ``(n_samples,)`` LSL stamps, s.
    missed
        Samples overwritten before this consumer read them (0 normally).
    events
        ``(position, event)`` pairs in order; ``position`` is the count of the
        first sample after the event.
    """

    start: int
    data: np.ndarray
    stamps: np.ndarray
    missed: int = 0
    events: list[tuple[int, Any]] = field(default_factory=list)


class RingBuffer:
    """Bounded, thread-safe ring of samples with stamps (module docstring).

    Parameters
    ----------
    n_channels
        Channels per sample.
    capacity
        Samples kept, >= 1.
    dtype
        Sample dtype (float64 signals, bool flags).
    """

    def __init__(self, n_channels: int, capacity: int, dtype: type | np.dtype = np.float64) -> None:
        if capacity < 1 or n_channels < 1:
            raise DataError(f"a ring buffer needs capacity >= 1 and n_channels >= 1; got {capacity}, {n_channels}")
        self.capacity = int(capacity)
        self.n_channels = int(n_channels)
        self._data = np.zeros((self.capacity, self.n_channels), dtype=dtype)
        self._stamps = np.zeros(self.capacity)
        self._count = 0
        self._events: list[tuple[int, Any]] = []
        self._n_events = 0
        self._closed = False
        self._cond = threading.Condition()

    @property
    def count(self) -> int:
        """Samples appended since creation."""
        return self._count

    @property
    def oldest(self) -> int:
        """Count of the oldest sample still held."""
        return max(0, self._count - self.capacity)

    @property
    def closed(self) -> bool:
        """Whether the writer has finished (readers stop waiting)."""
        return self._closed

    def append(self, data: np.ndarray, stamps: np.ndarray) -> None:
        """Append ``data`` ``(n_samples, n_channels)`` with ``stamps`` ``(n_samples,)``; wakes waiting readers."""
        data = np.asarray(data)
        n = len(data)
        if data.ndim != 2 or data.shape[1] != self.n_channels or len(stamps) != n:
            raise DataError(
                f"ring buffer of {self.n_channels} channels got data of shape {data.shape} with {len(stamps)} stamps"
            )
        if n == 0:
            return
        with self._cond:
            if n > self.capacity:
                data, stamps = data[-self.capacity :], stamps[-self.capacity :]
                self._count += n - self.capacity
                n = self.capacity
            idx = (self._count + np.arange(n)) % self.capacity
            self._data[idx] = data
            self._stamps[idx] = stamps
            self._count += n
            self._cond.notify_all()

    def add_event(self, event: Any) -> None:
        """Record ``event`` before the next sample to be appended; wakes waiting readers."""
        with self._cond:
            self._events.append((self._count, event))
            self._n_events += 1
            # Events are few (losses, recoveries); keep a bounded history.
            del self._events[:-256]
            self._cond.notify_all()

    def close(self) -> None:
        """Mark the writer finished; waiting readers return."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, cursor: Cursor, timeout: float | None) -> bool:
        """Block until there are samples or events after ``cursor``, the buffer closes, or ``timeout`` s pass.

        Returns whether there is something new to read.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._has_new(cursor) or self._closed, timeout=timeout)
            return self._has_new(cursor)

    def read(self, cursor: Cursor, max_samples: int | None = None) -> Read:
        """Samples and events after ``cursor`` (advanced past them); see :class:`Read`."""
        with self._cond:
            start = max(cursor.sample, self.oldest)
            missed = start - cursor.sample
            stop = self._count if max_samples is None else min(self._count, start + max_samples)
            idx = np.arange(start, stop) % self.capacity
            first_event = self._n_events - len(self._events)
            events = [
                item for i, item in enumerate(self._events)
                if first_event + i >= cursor.event and item[0] <= stop
            ]  # fmt: skip
            cursor.sample = stop
            cursor.event += len(events) + max(0, first_event - cursor.event)
            return Read(start, self._data[idx].copy(), self._stamps[idx].copy(), missed, events)

    def get(self, start: int, stop: int) -> np.ndarray:
        """Samples with counts ``start <= k < stop`` as ``(stop - start, n_channels)`` (a copy)."""
        with self._cond:
            self._check_range(start, stop)
            return self._span(self._data, start, stop)

    def stamps(self, start: int, stop: int) -> np.ndarray:
        """Stamps of the samples with counts ``start <= k < stop``."""
        with self._cond:
            self._check_range(start, stop)
            return self._span(self._stamps, start, stop)

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Held samples stamped ``t0 <= t < t1`` (e.g. a peripheral stream over an EEG window): data, stamps."""
        with self._cond:
            idx = np.arange(self.oldest, self._count) % self.capacity
            stamps = self._stamps[idx]
            keep = (stamps >= t0) & (stamps < t1)
            return self._data[idx[keep]].copy(), stamps[keep].copy()

    def _span(self, array: np.ndarray, start: int, stop: int) -> np.ndarray:
        """A copy of ``array``'s rows for counts ``start <= k < stop``: one or two slices, not a gather."""
        first = start % self.capacity
        end = first + (stop - start)
        if end <= self.capacity:
            return array[first:end].copy()
        return np.concatenate([array[first:], array[: end - self.capacity]])

    def _check_range(self, start: int, stop: int) -> None:
        if not self.oldest <= start <= stop <= self._count:
            raise DataError(
                f"samples {start}..{stop} requested from a ring buffer holding {self.oldest}..{self._count}"
            )

    def _has_new(self, cursor: Cursor) -> bool:
        return self._count > cursor.sample or self._n_events > cursor.event
