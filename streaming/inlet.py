"""LSL inlets: find streams, read their channel layout, pull chunks on a reader thread per stream.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module
(it imports :mod:`pylsl`).

* :class:`StreamQuery` names a stream by ``name``, ``type`` and/or
  ``source_id`` (``"type=EEG"``, ``"name=Emotiv,type=EEG"``); it may also give
  the channel names and unit to use when the stream's XML description has
  none.
* :func:`resolve` finds exactly one stream within a timeout, or raises a
  :class:`~biosig.errors.DataError` listing the streams that are there.
* :class:`ChannelLayout` is a stream's channel names (normalised to the
  10-05 spelling), types and factors to SI units, from the ``desc/channels``
  of its XML when present, else from the query; ExG streams without units
  are taken as microvolts and EDA as microsiemens (the XDF conventions, as
  :mod:`biosig.io.xdf` reads them).
* :class:`StreamReader` is a thread per stream: blocking chunk pulls
  (``pull_chunk(timeout, min_samples=1)``: it wakes at the first sample and
  takes whatever else is there) into the stream's bounded
  :class:`~streaming.buffer.RingBuffer`, with liblsl's clock correction and,
  by default, its dejitter (``processing_flags``). When the source is lost
  (liblsl's ``LostError``) or sends nothing for ``lost_after`` seconds, the
  reader records a ``stream_lost`` event, re-resolves the stream (by its
  ``source_id`` when it has one) with short blocking resolves, opens a fresh
  inlet (fresh clock and dejitter state) and records ``stream_recovered``
  when samples flow again. Several readers run side by side, each at its
  stream's own rate.

liblsl's dejitter fits a line to the stamps against the sample count, so it
smooths away stamp disorder and, inside one inlet, hides a gap in which
samples were never sent; the reader's fresh inlet after a loss or a stall
keeps such gaps visible. ``dejitter=False`` passes the sender's stamps
through (clock-corrected) for the pipeline's own checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pylsl
from pylsl.util import LostError

from biosig.errors import ConfigError, DataError
from biosig.io.channels import normalise_name, si_factor
from streaming.buffer import Event, RingBuffer

_DEFAULT_UNITS = {
    "eeg": "microvolts", "ecg": "microvolts", "eog": "microvolts", "emg": "microvolts", "exg": "microvolts",
    "eda": "microsiemens", "gsr": "microsiemens",
}  # fmt: skip
_QUERY_KEYS = ("name", "type", "source_id")


@dataclass(frozen=True)
class StreamQuery:
    """Which stream to use and how to read it when its description is incomplete.

    Attributes
    ----------
    name, type, source_id
        LSL stream properties to match (at least one).
    channels
        Channel names to use when the stream's XML has none.
    unit
        Unit of every channel when the stream's XML gives none (e.g. ``"uV"``).
    """

    name: str | None = None
    type: str | None = None
    source_id: str | None = None
    channels: tuple[str, ...] | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if not any(getattr(self, key) for key in _QUERY_KEYS):
            raise ConfigError("a stream query needs a name, a type or a source_id")
        for key in _QUERY_KEYS:
            value = getattr(self, key)
            if value is not None and "'" in value:
                raise ConfigError(f"stream {key} {value!r} must not contain a single quote")

    @classmethod
    def parse(cls, text: str) -> StreamQuery:
        """``"type=EEG"``, ``"name=Emotiv,type=EEG"``, ``"source_id=abc"``; a bare word is a type."""
        text = text.strip()
        if "=" not in text:
            return cls(type=text)
        fields: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in _QUERY_KEYS:
                raise ConfigError(f"stream query {text!r}: use key=value pairs with keys {list(_QUERY_KEYS)}")
            fields[key] = value.strip()
        return cls(**fields)

    def predicate(self) -> str:
        """The XPath predicate liblsl resolves, e.g. ``name='X' and type='EEG'``."""
        return " and ".join(f"{key}='{getattr(self, key)}'" for key in _QUERY_KEYS if getattr(self, key))

    def describe(self) -> str:
        """Short text for messages."""
        return ", ".join(f"{key}={getattr(self, key)}" for key in _QUERY_KEYS if getattr(self, key))


def describe_info(info: pylsl.StreamInfo) -> str:
    """``name (type, n ch @ rate Hz, source_id ...)`` of a resolved stream."""
    rate = info.nominal_srate()
    return (
        f"{info.name()!r} (type {info.type()!r}, {info.channel_count()} ch @ "
        f"{f'{rate:g} Hz' if rate > 0 else 'irregular rate'}, source_id {info.source_id()!r})"
    )


def resolve(query: StreamQuery, timeout: float = 2.0) -> pylsl.StreamInfo:
    """The one stream matching ``query``, waiting up to ``timeout`` s.

    Raises
    ------
    DataError
        No stream matches (the message lists the streams found on this
        machine), or several answer the same query (it lists them; add a
        ``name`` or ``source_id``). liblsl returns as soon as one stream
        answers, so a second one answering later goes unnoticed.
    """
    found = pylsl.resolve_bypred(query.predicate(), minimum=1, timeout=timeout)
    if len(found) == 1:
        return found[0]
    if found:
        listing = "; ".join(describe_info(info) for info in found)
        raise DataError(f"{len(found)} LSL streams match {query.describe()}: {listing}; add name= or source_id=")
    present = pylsl.resolve_streams(wait_time=1.0)  # pylsl: shorter waits may miss streams
    listing = "; ".join(describe_info(info) for info in present) or "none"
    raise DataError(f"no LSL stream matches {query.describe()} within {timeout:g} s; streams found: {listing}")


@dataclass(frozen=True)
class ChannelLayout:
    """A stream's channels.

    Attributes
    ----------
    names
        Channel names in stream order, normalised (``EEG Fp1-REF`` -> ``Fp1``).
    types
        Declared channel types (lower case), or the stream type.
    factors
        Factor from the stream's unit to SI (V, S) per channel, ``(n_channels,)``.
    from_description
        Whether the names came from the stream's XML (else from the query).
    """

    names: tuple[str, ...]
    types: tuple[str, ...]
    factors: np.ndarray
    from_description: bool

    @classmethod
    def from_info(cls, info: pylsl.StreamInfo, query: StreamQuery) -> ChannelLayout:
        """The layout of a stream with its full description (an inlet's ``info()``).

        Raises
        ------
        DataError
            The stream describes a different number of channels than it has,
            or has no names and the query gives none (or the wrong number).
        """
        n = info.channel_count()
        where = f"LSL stream {info.name()!r}"
        labels = info.get_channel_labels()
        if labels is not None and len(labels) != n:
            raise DataError(f"{where} has {n} channels but its description lists {len(labels)}")
        from_description = labels is not None and all(labels)
        if from_description:
            names = [normalise_name(str(label)) for label in labels]
        elif query.channels is not None:
            if len(query.channels) != n:
                raise DataError(
                    f"{where} has {n} channels but {len(query.channels)} channel names were given: "
                    f"{list(query.channels)}"
                )
            names = [normalise_name(ch) for ch in query.channels]
        else:
            raise DataError(
                f"{where} has no channel names in its XML description; give them (channels=...) in the stream query"
            )
        if len(set(names)) != len(names):
            raise DataError(f"{where} names a channel twice: {names}")
        kind = info.type().strip().lower()
        types = info.get_channel_types() or [None] * n
        types = [str(t).strip().lower() if t else kind for t in types]
        units = info.get_channel_units() or [None] * n
        factors = []
        for name, ch_type, unit in zip(names, types, units, strict=True):
            unit = unit or query.unit or _DEFAULT_UNITS.get(ch_type)
            factor = si_factor(unit) if unit else 1.0
            if factor is None:
                raise DataError(f"{where}: channel {name} has unit {unit!r}, not a known unit (V, uV, S, uS...)")
            factors.append(factor)
        return cls(tuple(names), tuple(types), np.asarray(factors), from_description)

    def indices_of(self, channels: Sequence[str], where: str) -> np.ndarray:
        """Positions of ``channels`` in this layout; :class:`DataError` naming the missing ones."""
        index = {name.casefold(): i for i, name in enumerate(self.names)}
        missing = [ch for ch in channels if normalise_name(ch).casefold() not in index]
        if missing:
            raise DataError(
                f"{where}: the model needs channels {missing}, which the stream does not have; "
                f"it has {list(self.names)}"
            )
        return np.array([index[normalise_name(ch).casefold()] for ch in channels])


class LiveInlet:
    """One open pylsl inlet: pulls chunks in SI units with corrected stamps.

    Parameters
    ----------
    info
        A resolved stream.
    query
        The query that found it (fallback channel names and unit).
    dejitter
        Apply liblsl's dejitter besides its clock correction.
    max_buflen
        Seconds liblsl buffers for this inlet before dropping the oldest.
    timeout
        Seconds to wait for the connection and the full description.
    """

    def __init__(
        self,
        info: pylsl.StreamInfo,
        query: StreamQuery,
        *,
        dejitter: bool = True,
        max_buflen: int = 30,
        timeout: float = 2.0,
    ) -> None:
        flags = pylsl.proc_clocksync | (pylsl.proc_dejitter if dejitter else 0)
        self.inlet = pylsl.StreamInlet(info, max_buflen=max_buflen, recover=False, processing_flags=flags)
        try:
            full = self.inlet.info(timeout=timeout)
            self.inlet.open_stream(timeout=timeout)
        except (TimeoutError, LostError) as exc:
            raise DataError(f"LSL stream {info.name()!r} did not answer within {timeout:g} s ({exc})") from None
        self.info = full
        self.layout = ChannelLayout.from_info(full, query)
        self.rate = full.nominal_srate()
        self.max_chunk = max(64, int(self.rate)) if self.rate > 0 else 64

    def pull(self, timeout: float) -> tuple[np.ndarray, np.ndarray]:
        """Wait up to ``timeout`` s for samples, return all available: ``(n, n_channels)`` SI float64, stamps.

        Raises ``LostError`` when the source is gone.
        """
        data, stamps = self.inlet.pull_chunk(timeout=timeout, max_samples=self.max_chunk, min_samples=1, as_numpy=True)
        if not len(stamps):
            return np.empty((0, len(self.layout.names))), np.empty(0)
        return np.asarray(data, dtype=np.float64) * self.layout.factors, np.asarray(stamps, dtype=np.float64)

    def close(self) -> None:
        """Close the connection (the inlet is freed with this object)."""
        try:
            self.inlet.close_stream()
        except Exception:  # noqa: BLE001 - closing a lost inlet can fail in many ways; nothing to do about it
            pass


@dataclass
class ReaderStats:
    """Counters of one stream reader."""

    samples: int = 0
    chunks: int = 0
    losses: int = 0
    recoveries: int = 0


class StreamReader(threading.Thread):
    """Reader thread of one stream (module docstring); the stream is resolved in the constructor.

    Parameters
    ----------
    query
        The stream to read.
    buffer_seconds
        Length of the ring buffer, s.
    resolve_timeout
        Seconds to find the stream at start (error after) and per re-resolve attempt.
    lost_after
        Seconds without samples after which the stream counts as lost.
    dejitter
        liblsl dejitter on (see the module docstring).
    """

    def __init__(
        self,
        query: StreamQuery,
        *,
        buffer_seconds: float = 10.0,
        resolve_timeout: float = 2.0,
        lost_after: float = 2.0,
        dejitter: bool = True,
    ) -> None:
        super().__init__(name=f"lsl-reader-{query.describe()}", daemon=True)
        self.query = query
        self.resolve_timeout = resolve_timeout
        self.lost_after = lost_after
        self.dejitter = dejitter
        info = resolve(query, resolve_timeout)
        self._inlet: LiveInlet | None = LiveInlet(info, query, dejitter=dejitter, timeout=resolve_timeout)
        self.info = self._inlet.info
        self.layout = self._inlet.layout
        self.rate = self._inlet.rate
        self.name_ = self.info.name()
        self.source_id = self.info.source_id()
        capacity = max(256, int(np.ceil(buffer_seconds * (self.rate if self.rate > 0 else 100.0))))
        self.buffer = RingBuffer(len(self.layout.names), capacity)
        self.stats = ReaderStats()
        self.error: BaseException | None = None
        self._stop_event = threading.Event()
        self._lost = False

    def stop(self) -> None:
        """Ask the thread to finish (it does within one pull timeout)."""
        self._stop_event.set()

    def close(self) -> None:
        """Stop the thread and wait for it, or close the inlet of a reader never started."""
        self.stop()
        if self.is_alive():
            self.join()
        elif self._inlet is not None:
            self._inlet.close()
            self._inlet = None
            self.buffer.close()

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - reported to the session, which raises it
            self.error = exc
        finally:
            if self._inlet is not None:
                self._inlet.close()
            self.buffer.close()

    def _loop(self) -> None:
        last_data = time.monotonic()
        while not self._stop_event.is_set():
            if self._inlet is None:
                if self._reconnect():
                    last_data = time.monotonic()
                continue
            try:
                data, stamps = self._inlet.pull(timeout=0.1)
            except LostError:
                self._drop_inlet("the source closed the connection")
                continue
            now = time.monotonic()
            if len(stamps):
                if self._lost:
                    self._lost = False
                    self.stats.recoveries += 1
                    self.buffer.add_event(Event("stream_recovered", float(stamps[0]), {"stream": self.name_}))
                self.buffer.append(data, stamps)
                self.stats.samples += len(stamps)
                self.stats.chunks += 1
                last_data = now
            elif now - last_data > self.lost_after:
                # A fresh inlet after a stall also restarts liblsl's dejitter, which would hide the gap.
                self._drop_inlet(f"no samples for {self.lost_after:g} s")

    def _drop_inlet(self, why: str) -> None:
        """Close the inlet; the first time since samples last flowed, record ``stream_lost``."""
        if not self._lost:
            self._lost = True
            self.stats.losses += 1
            self.buffer.add_event(Event("stream_lost", pylsl.local_clock(), {"stream": self.name_, "reason": why}))
        if self._inlet is not None:
            self._inlet.close()
        self._inlet = None

    def _reconnect(self) -> bool:
        """One short blocking resolve; opens a fresh inlet when the stream is there again."""
        query = StreamQuery(source_id=self.source_id) if self.source_id else self.query
        found = pylsl.resolve_bypred(query.predicate(), minimum=1, timeout=min(0.5, self.resolve_timeout))
        if not found or self._stop_event.is_set():
            return False
        try:
            inlet = LiveInlet(found[0], self.query, dejitter=self.dejitter, timeout=self.resolve_timeout)
        except DataError:
            return False  # the stream vanished again while connecting; keep looking
        if inlet.layout.names != self.layout.names or inlet.rate != self.rate:
            inlet.close()
            raise DataError(
                f"LSL stream {self.name_!r} came back with other channels or rate: {list(inlet.layout.names)} at "
                f"{inlet.rate:g} Hz instead of {list(self.layout.names)} at {self.rate:g} Hz"
            )
        self._inlet = inlet
        return True
