"""The live view's web server: LSL inlet threads feed a hub, the hub feeds each page over SSE.

Threads and queues:

- one follower thread per LSL stream (predictions, markers, per-channel quality;
  see :mod:`streaming.liveview` for their format). A follower blocks only inside
  liblsl (``pull_sample`` with a timeout) or on the shutdown event, so it wakes
  at least every :data:`~streaming.liveview.followers.POLL_S` seconds to notice
  shutdown and a lost stream;
- a :class:`~streaming.liveview.hub.Hub` keeps the latest state (recent trace,
  log, quality, status) and one bounded queue per connected page. Publishing never blocks: a page
  that falls behind loses its oldest events, since a live view wants the newest
  state, not a backlog. A page that connects first gets a ``snapshot`` event;
- ``http.server``'s threads serve ``/`` (the page), ``/static/<file>`` and
  ``/events`` (``text/event-stream``; events ``snapshot``, ``affect``,
  ``status``, ``quality``, ``log``, each with a JSON payload).

The server listens on 127.0.0.1 only, answers only requests addressed to a
loopback host name (a guard against DNS rebinding) and sends a
Content-Security-Policy that forbids the page any request to another origin.

The modules: :mod:`~streaming.liveview.followers` (the LSL threads),
:mod:`~streaming.liveview.hub` (the state and the events),
:mod:`~streaming.liveview.web` (the HTTP side) and this one, which starts
and stops them together.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

from biosig.errors import ConfigError
from streaming.liveview import AFFECT_STREAM, marker_stream_name, quality_stream_name
from streaming.liveview.followers import AffectFollower, Follower, MarkerFollower, QualityFollower
from streaming.liveview.hub import Hub, encode_event, finite_or_none
from streaming.liveview.web import ViewHTTPServer, load_static

__all__ = ["HOST", "Hub", "LiveViewServer", "encode_event", "finite_or_none"]

#: The only interface the server listens on.
HOST: str = "127.0.0.1"


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
        self._followers: Sequence[Follower] = (
            AffectFollower(stream, self.hub, self._shutdown, lost_after, self.names),
            MarkerFollower(self.names["markers"], self.hub, self._shutdown, rescan_after=2 * lost_after),
            QualityFollower(self.names["quality"], self.hub, self._shutdown, stale_after=lost_after),
        )
        self._httpd: ViewHTTPServer | None = None
        self._http_thread: threading.Thread | None = None

    def start(self) -> LiveViewServer:
        """Listen on 127.0.0.1 and start following the streams; raises ConfigError when the port is taken."""
        try:
            self._httpd = ViewHTTPServer((HOST, self._port), self.hub, load_static())
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
