"""LSL inlets: pull chunks of a resolved stream on a reader thread per stream.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module
(it imports :mod:`pylsl`). Streams are named, found and described by
:mod:`streaming.discovery` (:class:`StreamQuery`, :func:`resolve`,
:class:`ChannelLayout`, re-exported here).

* :class:`LiveInlet` is one open inlet: chunks in SI units with corrected
  stamps.
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

from biosig.errors import DataError
from streaming.buffer import Event, RingBuffer
from streaming.discovery import ChannelLayout, StreamQuery, describe_info, resolve

__all__ = ["ChannelLayout", "LayoutChangedError", "LiveInlet", "ReaderStats", "StreamQuery", "StreamReader", "describe_info", "resolve"]


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


class LayoutChangedError(DataError):
    """A stream came back with other channels or another rate than it had (the reader stops).

    Attributes
    ----------
    stream
        The stream's name.
    old_channels, new_channels
        Channel names before and after.
    old_rate, new_rate
        Nominal rates before and after, Hz.
    """

    def __init__(
        self, stream: str, old_channels: Sequence[str], old_rate: float, new_channels: Sequence[str], new_rate: float
    ) -> None:
        self.stream, self.old_rate, self.new_rate = stream, float(old_rate), float(new_rate)
        self.old_channels, self.new_channels = list(old_channels), list(new_channels)
        super().__init__(
            f"LSL stream {stream!r} came back with other channels or rate: {self.new_channels} at "
            f"{new_rate:g} Hz instead of {self.old_channels} at {old_rate:g} Hz"
        )


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
            raise LayoutChangedError(self.name_, self.layout.names, self.rate, inlet.layout.names, inlet.rate)
        self._inlet = inlet
        return True
