"""The live view's hub and its events: the latest view state, fanned out to each page as server-sent events.

An event is ``event: NAME`` and a one-line JSON payload (:func:`encode_event`;
JSON has no NaN, hence :func:`finite_or_none`). The :class:`Hub` keeps the
latest state and one bounded queue per connected page; publishing never
blocks (:mod:`streaming.liveview.server`).
"""

from __future__ import annotations

import json
import math
import queue
import threading
from collections import deque
from typing import Any

from biosig.errors import ConfigError

Event = bytes | None  # an encoded SSE message, or None: the server is closing


def encode_event(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event: ``event: NAME`` and a single-line JSON ``data`` field.

    Parameters
    ----------
    event : str
        Event name (the page listens by name).
    data : dict
        JSON-serialisable payload; floats must be finite (use :func:`finite_or_none`).
    """
    body = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n".encode()


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or ``None`` when it is NaN or infinite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _offer(q: queue.Queue[Event], item: Event) -> None:
    """Put ``item`` without blocking, dropping the oldest queued item when ``q`` is full."""
    while True:
        try:
            q.put_nowait(item)
            return
        except queue.Full:
            try:
                q.get_nowait()
            except queue.Empty:
                pass


class Hub:
    """Latest view state plus one bounded event queue per connected page.

    Parameters
    ----------
    trace_len : int
        Predictions kept for pages that connect later (the page shows the last 60 s).
    log_len : int
        Log lines (markers, stream notices) kept likewise.
    queue_size : int
        Events a page may fall behind before its oldest are dropped; at least 2.
    """

    def __init__(self, trace_len: int = 600, log_len: int = 50, queue_size: int = 256) -> None:
        if queue_size < 2:
            raise ConfigError(f"liveview: queue_size must be at least 2, got {queue_size}")
        self._lock = threading.Lock()
        self._queues: set[queue.Queue[Event]] = set()
        self._queue_size = queue_size
        self._trace: deque[dict[str, Any]] = deque(maxlen=trace_len)
        self._log: deque[dict[str, Any]] = deque(maxlen=log_len)
        self._quality: dict[str, Any] | None = None
        self._status: dict[str, Any] | None = None
        self._closed = False

    def publish(self, event: str, data: dict[str, Any]) -> None:
        """Record ``data`` as the latest ``event`` (affect, status, quality or log) and send it to every page."""
        message = encode_event(event, data)
        with self._lock:
            if event == "affect":
                self._trace.append(data)
            elif event == "log":
                self._log.append(data)
            elif event == "quality":
                self._quality = data
            elif event == "status":
                self._status = data
            else:
                raise ValueError(f"liveview: unknown event {event!r}")
            for q in self._queues:
                _offer(q, message)

    def subscribe(self) -> queue.Queue[Event]:
        """A new page's queue, starting with a ``snapshot`` event (status, trace, quality, log)."""
        q: queue.Queue[Event] = queue.Queue(maxsize=self._queue_size)
        with self._lock:
            snapshot = {"status": self._status, "trace": list(self._trace), "quality": self._quality, "log": list(self._log)}
            q.put_nowait(encode_event("snapshot", snapshot))
            if self._closed:
                q.put_nowait(None)
            else:
                self._queues.add(q)
        return q

    def unsubscribe(self, q: queue.Queue[Event]) -> None:
        """Forget a page's queue (the page disconnected)."""
        with self._lock:
            self._queues.discard(q)

    def close(self) -> None:
        """Tell every page's stream to end; later subscribers get the snapshot and the end."""
        with self._lock:
            self._closed = True
            for q in self._queues:
                _offer(q, None)
            self._queues.clear()

    @property
    def n_subscribers(self) -> int:
        """Number of connected pages."""
        with self._lock:
            return len(self._queues)
