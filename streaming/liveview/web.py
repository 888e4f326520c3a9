"""The live view's HTTP side: the page and its static files, and the ``/events`` stream of each page.

Only the files of ``static/`` are served, by name (:func:`load_static`;
any other path, ``..`` included, is not found); a request addressed to a
host other than a loopback name is refused (a guard against DNS
rebinding), and every answer carries a Content-Security-Policy that forbids
the page any request to another origin.
"""

from __future__ import annotations

import logging
import mimetypes
import queue
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from streaming.liveview.hub import Hub

log = logging.getLogger(__name__)

#: An idle event stream sends a comment this often (s), which also detects pages that went away.
KEEPALIVE_S: float = 10.0

_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def load_static() -> dict[str, tuple[bytes, str]]:
    """Every file of ``static/`` by name, with its content type; nothing else is ever served."""
    files: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        if entry.is_file():
            ctype = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
                ctype += "; charset=utf-8"
            files[entry.name] = (entry.read_bytes(), ctype)
    return files


class ViewHTTPServer(ThreadingHTTPServer):
    """An HTTP server (a thread per request) with the hub whose events pages stream and the static files by name."""

    def __init__(self, address: tuple[str, int], hub: Hub, static: dict[str, tuple[bytes, str]]) -> None:
        self.hub = hub
        self.static = static
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ViewHTTPServer
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
