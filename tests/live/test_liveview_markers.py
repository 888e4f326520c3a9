"""The live view's event list shows markers as readable text and keeps their structured form (issue 16).

The marker stream carries JSON (``{"event": "bad_window", "quality": 0.93, ...}``);
the view's ``log`` events read ``bad window: quality 0.93 (flat: F8)``
(:func:`streaming.outlet.describe_marker`) with the JSON kept under ``marker``,
and the page shows the text, the JSON as the line's tooltip.
"""

from __future__ import annotations

import json
import threading

from streaming.buffer import Event
from streaming.liveview.followers import MarkerFollower
from streaming.liveview.hub import Hub
from streaming.outlet import marker_text
from tests.helpers import REPO_ROOT


def _log(hub: Hub) -> list[dict]:
    return json.loads(hub.subscribe().get_nowait().split(b"data: ")[1])["log"]


def test_marker_events_read_as_text_and_keep_the_json() -> None:
    hub = Hub()
    follower = MarkerFollower("biosig-affect-markers", hub, threading.Event(), rescan_after=5.0)
    structured = marker_text(Event("bad_window", 12.5, {"quality": 0.9285714285714286, "reasons": ["flat: F8"]}))
    follower.receive([[structured], ["a plain marker"]], [12.5, 13.0], now=13.0)
    first, second = _log(hub)
    assert first["text"] == "bad window: quality 0.93 (flat: F8)"
    assert "{" not in first["text"]
    assert json.loads(first["marker"]) == json.loads(structured)
    assert first["source"] == "markers" and first["t"] == 12.5
    assert second["text"] == "a plain marker" and second["marker"] == "a plain marker"
    hub.close()


def test_page_shows_the_text_and_the_marker_as_tooltip() -> None:
    script = (REPO_ROOT / "streaming" / "liveview" / "static" / "liveview.js").read_text()
    assert 'textContent = entry.text' in script
    assert "li.title = entry.marker" in script
