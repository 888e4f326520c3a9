"""The live view's web server: LSL inlet threads feed a hub, the hub feeds each page over SSE.

Threads and queues:

- one follower thread per LSL stream (predictions, markers, per-channel quality;
  see :mod:`streaming.liveview` for their format). A follower blocks only inside
  liblsl (``pull_sample`` with a timeout) or on the shutdown event, so it wakes
  at least every :data:`POLL_S` seconds to notice shutdown and a lost stream;
- a :class:`Hub` keeps the latest state (recent trace, log, quality, status)
  and one bounded queue per connected page. Publishing never blocks: a page
  that falls behind loses its oldest events, since a live view wants the newest
  state, not a backlog. A page that connects first gets a ``snapshot`` event;
- ``http.server``'s threads serve ``/`` (the page), ``/static/<file>`` and
  ``/events`` (``text/event-stream``; events ``snapshot``, ``affect``,
  ``status``, ``quality``, ``log``, each with a JSON payload).

The server listens on 127.0.0.1 only, answers only requests addressed to a
loopback host name (a guard against DNS rebinding) and sends a
Content-Security-Policy that forbids the page any request to another origin.
"""

from __future__ import annotations

import json
import logging
import math
import mimetypes
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pylsl

from biosig.errors import ConfigError
from streaming.liveview import AFFECT_CHANNELS, AFFECT_STREAM, marker_stream_name, quality_stream_name

log = logging.getLogger(__name__)

#: The only interface the server listens on.
HOST: str = "127.0.0.1"
#: Longest time (s) a follower blocks in liblsl before it checks for shutdown and stream loss.
POLL_S: float = 0.25
#: Period (s) of ``status`` events (they carry the age of the last update, so the page sees time pass).
STATUS_EVERY_S: float = 1.0
#: Time (s) the status stays "recovered" after the stream came back, before it reads "connected".
RECOVERED_HOLD_S: float = 5.0
#: An idle event stream sends a comment this often (s), which also detects pages that went away.
KEEPALIVE_S: float = 10.0
#: Number of recent prediction stamps the rate is computed from.
RATE_SAMPLES: int = 20

_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

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


def _log_line(text: str, level: str = "info", source: str = "liveview", stamp: float | None = None) -> dict[str, Any]:
    """A ``log`` event payload; ``wall`` is the server's Unix time (s), ``t`` the LSL stamp (s) if any."""
    return {"wall": time.time(), "t": stamp, "source": source, "level": level, "text": text}


class _Follower(threading.Thread):
    """Finds the LSL stream named ``stream``, keeps one inlet on it and hands its samples to :meth:`receive`.

    liblsl's inlet recovery reconnects to an outlet restarted with the same
    source_id by itself; when the stream has been silent for ``rescan_after``
    seconds and another stream of that name appears, the follower switches to it.
    """

    def __init__(self, stream: str, hub: Hub, stop: threading.Event, rescan_after: float) -> None:
        super().__init__(name=f"liveview:{stream}", daemon=True)
        self.stream = stream
        self.hub = hub
        self.rescan_after = rescan_after
        self._shutdown = stop

    def run(self) -> None:
        while not self._shutdown.is_set():
            info = self._resolve()
            if info is None:
                return
            inlet = pylsl.StreamInlet(info, processing_flags=pylsl.proc_clocksync)
            try:
                try:
                    full = inlet.info(timeout=2.0)
                except pylsl.util.TimeoutError:
                    continue  # the outlet went away between discovery and connection
                problem = self.check(full)
                if problem is not None:
                    log.error(problem)
                    self.reject(problem)
                    return
                self.attach(full)
                self._pump(inlet, full.uid())
            finally:
                inlet.close_stream()

    def _resolve(self) -> pylsl.StreamInfo | None:
        resolver = pylsl.ContinuousResolver(prop="name", value=self.stream)
        while not self._shutdown.wait(POLL_S):
            found = resolver.results()
            if found:
                if len(found) > 1:
                    chosen = found[0]
                    self.hub.publish("log", _log_line(
                        f"{len(found)} LSL streams are named {self.stream!r}; following the one from "
                        f"{chosen.hostname()} (source_id {chosen.source_id()!r})", level="warn"))
                return found[0]
            self.tick(pylsl.local_clock())
        return None

    def _pump(self, inlet: pylsl.StreamInlet, uid: str) -> None:
        """Pull until shutdown, or until a different stream of the same name replaces a silent one."""
        last_sample = pylsl.local_clock()
        resolver = None
        while not self._shutdown.is_set():
            sample, stamp = inlet.pull_sample(timeout=POLL_S)
            now = pylsl.local_clock()
            if sample is not None:
                more, more_stamps = inlet.pull_chunk(timeout=0.0)
                self.receive([sample, *more], [stamp, *more_stamps], now)
                last_sample, resolver = now, None
            elif now - last_sample > self.rescan_after:
                # liblsl's recovery finds a restarted outlet only if its source_id is unchanged; a pipeline
                # restarted with a new source_id is found by name instead.
                resolver = resolver or pylsl.ContinuousResolver(prop="name", value=self.stream)
                if any(info.uid() != uid for info in resolver.results()):
                    return
            self.tick(now)

    def check(self, info: pylsl.StreamInfo) -> str | None:
        """Why this stream cannot be shown (message naming the stream), or ``None`` when it can."""
        raise NotImplementedError

    def reject(self, problem: str) -> None:
        """Report a stream that :meth:`check` refused."""
        self.hub.publish("log", _log_line(problem, level="error"))

    def attach(self, info: pylsl.StreamInfo) -> None:
        """The inlet is open on ``info`` (full description, ``desc`` included)."""

    def receive(self, samples: list[list[Any]], stamps: list[float], now: float) -> None:
        """Samples that arrived together; stamps (s) on this machine's LSL clock, ``now`` the LSL time of receipt."""
        raise NotImplementedError

    def tick(self, now: float) -> None:
        """Called at least every :data:`POLL_S` seconds with the LSL time ``now``."""


def _stream_summary(info: pylsl.StreamInfo) -> dict[str, Any]:
    return {
        "name": info.name(),
        "type": info.type(),
        "source_id": info.source_id(),
        "hostname": info.hostname(),
        "nominal_srate": info.nominal_srate(),
        "channel_count": info.channel_count(),
    }


class _AffectFollower(_Follower):
    """Follows the prediction stream; owns the stream state machine and the ``status`` events.

    States: ``searching`` (no sample yet), ``connected``, ``lost`` (no sample for
    :attr:`lost_after` s), ``recovered`` (samples again after a loss; reads
    ``connected`` after :data:`RECOVERED_HOLD_S`), ``error`` (the stream has the
    wrong format).
    """

    def __init__(self, stream: str, hub: Hub, stop: threading.Event, lost_after: float, names: dict[str, str]) -> None:
        super().__init__(stream, hub, stop, rescan_after=2 * lost_after)
        self._lost_after_min = lost_after
        self.lost_after = lost_after
        self._names = names
        self.state = "searching"
        self._message = f"looking for LSL stream {stream!r}"
        self._info: dict[str, Any] | None = None
        self._last_receipt: float | None = None
        self._latency: float | None = None
        self._stamps: deque[float] = deque(maxlen=RATE_SAMPLES)
        self._changed_at = 0.0
        self._status_at = -math.inf

    def check(self, info: pylsl.StreamInfo) -> str | None:
        expected = ", ".join(AFFECT_CHANNELS)
        if info.channel_count() != len(AFFECT_CHANNELS):
            return (f"LSL stream {self.stream!r} has {info.channel_count()} channels, "
                    f"expected {len(AFFECT_CHANNELS)} ({expected}); restart the view once it is fixed")
        if info.channel_format() == pylsl.cf_string:
            return f"LSL stream {self.stream!r} carries strings, expected float32 ({expected})"
        labels = info.get_channel_labels()
        if labels is not None and tuple(labels) != AFFECT_CHANNELS:
            return f"LSL stream {self.stream!r} has channels {labels}, expected {list(AFFECT_CHANNELS)} in that order"
        return None

    def reject(self, problem: str) -> None:
        super().reject(problem)
        self._set_state("error", problem, pylsl.local_clock())

    def attach(self, info: pylsl.StreamInfo) -> None:
        self._info = _stream_summary(info)
        self._stamps.clear()  # a replacement stream's clock need not continue the old one's
        srate = info.nominal_srate()
        # Three missing windows at the nominal rate before "lost", so slow pipelines do not flap.
        self.lost_after = max(self._lost_after_min, 3.0 / srate) if srate > 0 else self._lost_after_min
        self.rescan_after = 2 * self.lost_after
        if self.state == "searching":
            self._message = f"found {info.name()!r} on {info.hostname()}, waiting for predictions"
            self._publish_status(pylsl.local_clock())

    def receive(self, samples: list[list[Any]], stamps: list[float], now: float) -> None:
        for sample, stamp in zip(samples, stamps):
            payload: dict[str, Any] = {"t": stamp}
            payload.update({name: finite_or_none(v) for name, v in zip(AFFECT_CHANNELS, sample)})
            payload["latency_s"] = now - stamp
            self.hub.publish("affect", payload)
            self._stamps.append(stamp)
        self._last_receipt = now
        self._latency = now - stamps[-1]
        if self.state == "searching":
            self._set_state("connected", f"receiving predictions from {self.stream!r}", now)
        elif self.state == "lost":
            self._set_state("recovered", f"{self.stream!r} recovered: predictions arrive again", now)

    def tick(self, now: float) -> None:
        if self.state in ("connected", "recovered") and now - self._last_receipt > self.lost_after:
            self._set_state("lost", f"{self.stream!r} lost: no prediction for {self.lost_after:g} s", now, "warn")
        elif self.state == "recovered" and now - self._changed_at > RECOVERED_HOLD_S:
            self._set_state("connected", f"receiving predictions from {self.stream!r}", now, log_it=False)
        if now - self._status_at >= STATUS_EVERY_S:
            self._publish_status(now)

    def _set_state(self, state: str, message: str, now: float, level: str = "info", log_it: bool = True) -> None:
        self.state, self._message, self._changed_at = state, message, now
        if log_it:
            self.hub.publish("log", _log_line(message, level=level))
        self._publish_status(now)

    def _rate(self) -> float | None:
        """Predictions per second from the LSL stamps of the recent ones (independent of delivery jitter)."""
        if self.state not in ("connected", "recovered") or len(self._stamps) < 2:
            return None
        span = self._stamps[-1] - self._stamps[0]
        return (len(self._stamps) - 1) / span if span > 0 else None

    def _publish_status(self, now: float) -> None:
        self._status_at = now
        self.hub.publish("status", {
            "state": self.state,
            "message": self._message,
            "stream": self._info,
            "names": self._names,
            "age_s": None if self._last_receipt is None else now - self._last_receipt,
            "rate_hz": self._rate(),
            "latency_s": self._latency,
            "lost_after_s": self.lost_after,
        })


class _MarkerFollower(_Follower):
    """Follows the pipeline's marker stream; every marker becomes a ``log`` event."""

    def check(self, info: pylsl.StreamInfo) -> str | None:
        if info.channel_format() != pylsl.cf_string:
            return f"LSL stream {self.stream!r} is not a string marker stream; its markers are not shown"
        return None

    def attach(self, info: pylsl.StreamInfo) -> None:
        self.hub.publish("log", _log_line(f"marker stream {self.stream!r} found on {info.hostname()}"))

    def receive(self, samples: list[list[Any]], stamps: list[float], now: float) -> None:
        for sample, stamp in zip(samples, stamps):
            self.hub.publish("log", _log_line(str(sample[0]), source="markers", stamp=stamp))


class _QualityFollower(_Follower):
    """Follows the optional per-channel quality stream; the newest sample becomes a ``quality`` event."""

    def __init__(self, stream: str, hub: Hub, stop: threading.Event, stale_after: float) -> None:
        super().__init__(stream, hub, stop, rescan_after=2 * stale_after)
        self._stale_after = stale_after
        self._labels: list[str] = []
        self._last: dict[str, Any] | None = None
        self._last_receipt = 0.0

    def check(self, info: pylsl.StreamInfo) -> str | None:
        if info.channel_format() == pylsl.cf_string:
            return f"LSL stream {self.stream!r} carries strings, expected float32 quality per channel"
        return None

    def attach(self, info: pylsl.StreamInfo) -> None:
        labels = info.get_channel_labels() or [None] * info.channel_count()
        self._labels = [label or f"ch{i + 1}" for i, label in enumerate(labels)]

    def receive(self, samples: list[list[Any]], stamps: list[float], now: float) -> None:
        values = [finite_or_none(v) for v in samples[-1]]
        self._last = {"t": stamps[-1], "labels": self._labels, "values": values, "stale": False}
        self._last_receipt = now
        self.hub.publish("quality", self._last)

    def tick(self, now: float) -> None:
        if self._last is not None and not self._last["stale"] and now - self._last_receipt > self._stale_after:
            self._last = {**self._last, "stale": True}
            self.hub.publish("quality", self._last)


def _load_static() -> dict[str, tuple[bytes, str]]:
    """Every file of ``static/`` by name, with its content type; nothing else is ever served."""
    files: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        if entry.is_file():
            ctype = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
                ctype += "; charset=utf-8"
            files[entry.name] = (entry.read_bytes(), ctype)
    return files


class _HTTPServer(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], hub: Hub, static: dict[str, tuple[bytes, str]]) -> None:
        self.hub = hub
        self.static = static
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "biosig-liveview"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if urlsplit("//" + self.headers.get("Host", "")).hostname not in _LOOPBACK_NAMES:
            self._send_body(HTTPStatus.FORBIDDEN, b"the live view answers only requests to 127.0.0.1 or localhost\n",
                            "text/plain; charset=utf-8")
            return
        path = urlsplit(self.path).path
        if path == "/events":
            self._stream_events()
            return
        name = "index.html" if path == "/" else path.removeprefix("/static/") if path.startswith("/static/") else ""
        found = self.server.static.get(name)
        if found is None:
            self._send_body(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        self._send_body(HTTPStatus.OK, *found)

    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")

    def _send_body(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self._common_headers()
        self.end_headers()
        q = self.server.hub.subscribe()
        try:
            self.wfile.write(b"retry: 2000\n\n")
            while True:
                try:
                    message = q.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    message = b": keepalive\n\n"
                if message is None:
                    return
                self.wfile.write(message)
        except (BrokenPipeError, ConnectionResetError):
            return  # the page went away
        finally:
            self.server.hub.unsubscribe(q)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log.debug("%s " + format, self.address_string(), *args)


class LiveViewServer:
    """The live view: a web server on 127.0.0.1 plus the LSL follower threads that feed it.

    Parameters
    ----------
    port : int
        TCP port on 127.0.0.1; 0 picks a free one (see :attr:`port`).
    stream : str
        Name of the prediction stream; the marker and quality streams are
        ``stream + "-markers"`` and ``stream + "-quality"``.
    lost_after : float
        Seconds without a prediction before the stream counts as lost (at least
        three nominal sample intervals are always allowed).
    trace_len : int
        Predictions kept for pages that connect later.
    queue_size : int
        Events a page may fall behind before its oldest are dropped.

    Examples
    --------
    >>> with LiveViewServer(port=0) as server:  # doctest: +SKIP
    ...     print(server.url)
    """

    def __init__(self, port: int = 8765, stream: str = AFFECT_STREAM, lost_after: float = 2.0,
                 trace_len: int = 600, queue_size: int = 256) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"liveview: --port must be 0..65535, got {port}")
        if not lost_after > 0:
            raise ConfigError(f"liveview: --lost-after must be a positive number of seconds, got {lost_after}")
        if not stream:
            raise ConfigError("liveview: --stream must name an LSL stream")
        self._port = port
        self.names = {"affect": stream, "markers": marker_stream_name(stream), "quality": quality_stream_name(stream)}
        self.hub = Hub(trace_len=trace_len, queue_size=queue_size)
        self._shutdown = threading.Event()
        self._followers: Sequence[_Follower] = (
            _AffectFollower(stream, self.hub, self._shutdown, lost_after, self.names),
            _MarkerFollower(self.names["markers"], self.hub, self._shutdown, rescan_after=2 * lost_after),
            _QualityFollower(self.names["quality"], self.hub, self._shutdown, stale_after=lost_after),
        )
        self._httpd: _HTTPServer | None = None
        self._http_thread: threading.Thread | None = None

    def start(self) -> LiveViewServer:
        """Listen on 127.0.0.1 and start following the streams; raises ConfigError when the port is taken."""
        try:
            self._httpd = _HTTPServer((HOST, self._port), self.hub, _load_static())
        except OSError as exc:
            raise ConfigError(
                f"liveview: cannot listen on {HOST}:{self._port} ({exc.strerror}); choose another --port") from None
        self._http_thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.5}, name="liveview:http", daemon=True)
        self._http_thread.start()
        for follower in self._followers:
            follower.start()
        return self

    @property
    def port(self) -> int:
        """The port the server listens on (the chosen one when constructed with 0)."""
        if self._httpd is None:
            raise RuntimeError("liveview: server not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Address of the page, from the socket actually bound."""
        if self._httpd is None:
            raise RuntimeError("liveview: server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def close(self) -> None:
        """Stop the followers, end every page's event stream and stop listening."""
        self._shutdown.set()
        self.hub.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._http_thread.join()
        for follower in self._followers:
            if follower.is_alive():
                follower.join()

    def __enter__(self) -> LiveViewServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
