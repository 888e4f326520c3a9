"""Live view: event hub, SSE stream over HTTP (urllib), CLI, and the page in headless Chromium.

Every test uses its own stream names, so pipelines other tests run on this machine are never picked up.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pylsl
import pytest
from typer.testing import CliRunner

from tests.helpers import REPO_ROOT
from biosig.cli import app
from biosig.errors import ConfigError
from streaming.liveview import AFFECT_CHANNELS
from streaming.liveview.server import Hub, LiveViewServer, encode_event, finite_or_none

REPO = REPO_ROOT
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
EEG_LABELS = ["AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4"]
# Circumplex plot area of liveview.js: x = X0 + (valence - 1) * UNIT.
X0, UNIT = 70.0, 115.0
#: How far a stamp the view shows may sit from the stamp pushed (s): liblsl's clock-offset estimate.
CLOCK_SLACK_S = 0.25


def unique_name() -> str:
    return f"test-liveview-{uuid.uuid4().hex[:10]}"


def trajectory(t: float) -> list[float]:
    """A smooth wandering valence/arousal path at stream time ``t`` (s), with confidences and quality."""
    valence = 3 + 1.3 * math.sin(2 * math.pi * t / 11.0) + 0.35 * math.sin(2 * math.pi * t / 4.1)
    arousal = 3 + 1.1 * math.sin(2 * math.pi * t / 8.5 + 1.0) + 0.3 * math.cos(2 * math.pi * t / 3.3)
    return [valence, arousal, 0.72 + 0.12 * math.sin(t / 3), 0.58 + 0.1 * math.cos(t / 4), 0.9 - 0.05 * math.sin(t)]


def channel_quality(t: float) -> list[float]:
    base = [0.96, 0.91, 0.97, 0.86, 0.31, 0.93, 0.71, 0.88, 0.94, 0.62, 0.9, 0.97, 0.92, 0.99]
    return [min(1.0, q + 0.02 * math.sin(t + i)) for i, q in enumerate(base)]


class FakePipeline:
    """Outlets named like the online pipeline's, pushing :func:`trajectory` from a thread.

    Pushing starts once the view has connected to every outlet; ``backlog_s`` seconds of
    earlier windows are then sent at once (stamped in the past), so the page has
    a history to draw. Samples are stamped with ``pylsl.local_clock()``.
    """

    def __init__(self, name: str, rate: float = 20.0, backlog_s: float = 0.0, quality: bool = True,
                 channels: int = len(AFFECT_CHANNELS)) -> None:
        self.name, self.rate, self.backlog_s, self.quality, self.channels = name, rate, backlog_s, quality, channels
        self.source_id = f"{name}-src"
        self.pushed: list[tuple[float, list[float]]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> FakePipeline:
        info = pylsl.StreamInfo(self.name, "Affect", self.channels, self.rate, "float32", self.source_id)
        if self.channels == len(AFFECT_CHANNELS):
            info.set_channel_labels(list(AFFECT_CHANNELS))
        self.affect = pylsl.StreamOutlet(info)
        self.markers = pylsl.StreamOutlet(
            pylsl.StreamInfo(f"{self.name}-markers", "Markers", 1, pylsl.IRREGULAR_RATE, "string", f"{self.source_id}-m"))
        self.quality_outlet = None
        if self.quality:
            qinfo = pylsl.StreamInfo(f"{self.name}-quality", "Quality", len(EEG_LABELS), self.rate, "float32",
                                     f"{self.source_id}-quality")
            qinfo.set_channel_labels(EEG_LABELS)
            self.quality_outlet = pylsl.StreamOutlet(qinfo)
        self._stop.clear()
        self._thread = threading.Thread(target=self._push, daemon=True)
        self._thread.start()
        return self

    def _push_window(self, stamp: float, t: float) -> None:
        sample = trajectory(t)[: self.channels]
        self.affect.push_sample(sample, stamp)
        if self.quality_outlet is not None:
            self.quality_outlet.push_sample(channel_quality(t), stamp)
        with self._lock:
            self.pushed.append((stamp, [float(np.float32(v)) for v in sample]))

    def _push(self) -> None:
        outlets = [o for o in (self.affect, self.markers, self.quality_outlet) if o is not None]
        while not all(o.have_consumers() for o in outlets):
            if self._stop.wait(0.05):
                return
        t0 = pylsl.local_clock()
        dt = 1.0 / self.rate
        for k in range(int(self.backlog_s * self.rate), 0, -1):
            self._push_window(t0 - k * dt, -k * dt)
        k = 0
        # On a fixed schedule (window k due at t0 + (k + 1) dt), so that a loaded machine's late
        # wake-ups do not lower the rate the view measures.
        while not self._stop.wait(max(0.0, t0 + (k + 1) * dt - pylsl.local_clock())):
            now = pylsl.local_clock()
            self._push_window(now, now - t0)
            if k == 3:
                self.markers.push_sample(["bad window"], now)
            k += 1

    def stop(self) -> None:
        """Stop pushing and destroy the outlets (the view sees the stream vanish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.affect = self.markers = self.quality_outlet = None

    def pushed_index(self, values: list[float], stamp: float) -> int:
        """Index in :attr:`pushed` of the sample equal to ``values`` (the trajectory never repeats one).

        Its stamp must be within :data:`CLOCK_SLACK_S` of ``stamp``: the view's stamps carry liblsl's
        clock-offset estimate, which on loopback is ~0 but can be off by tens of ms on a loaded machine
        (the estimate is bounded by half the round trip of its probes).
        """
        with self._lock:
            found = [i for i, (_, v) in enumerate(self.pushed) if v == pytest.approx(values, abs=1e-6)]
            assert len(found) == 1, f"{len(found)} pushed samples equal {values}"
            pushed_stamp = self.pushed[found[0]][0]
        assert abs(pushed_stamp - stamp) < CLOCK_SLACK_S, f"pushed at {pushed_stamp}, shown at {stamp}"
        return found[0]

    def __enter__(self) -> FakePipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EventStream:
    """Reads the server's ``/events`` stream with urllib; a read blocks at most ``timeout`` seconds."""

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        self.response = urllib.request.urlopen(url + "events", timeout=timeout)

    def next(self) -> tuple[str, dict] | None:
        """The next event as (name, payload), or None at the end of the stream."""
        event, data = None, []
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if line == "":
                if event is not None:
                    return event, json.loads("\n".join(data))
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)

    def until(self, *predicates, within_s: float = 30.0) -> list[tuple[str, dict]]:
        """The first event matching each ``predicate(name, payload)``, in whatever order they come.

        Fails at the end of the stream, or after ``within_s`` seconds so that a missing event fails the
        test instead of hanging it (a guard, not a speed requirement).
        """
        found: list[tuple[str, dict] | None] = [None] * len(predicates)
        deadline = time.monotonic() + within_s
        while None in found:
            assert time.monotonic() < deadline, f"no event matched {[p for p, f in zip(predicates, found) if f is None]}"
            item = self.next()
            assert item is not None, "event stream ended"
            for i, predicate in enumerate(predicates):
                if found[i] is None and predicate(*item):
                    found[i] = item
        return found

    def close(self) -> None:
        self.response.close()


def is_state(state: str):
    return lambda name, data: name == "status" and data["state"] == state


# --- event encoding and the hub ------------------------------------------------------------------


def test_events_are_single_line_json_and_nan_becomes_null() -> None:
    message = encode_event("affect", {"valence": finite_or_none(float("nan")), "arousal": finite_or_none(np.float32(2.5))})
    assert message == b'event: affect\ndata: {"valence":null,"arousal":2.5}\n\n'
    with pytest.raises(ValueError):
        encode_event("affect", {"valence": float("nan")})


def test_hub_queue_is_bounded_and_keeps_the_newest_events() -> None:
    hub = Hub(queue_size=4)
    q = hub.subscribe()
    for i in range(10):
        hub.publish("log", {"text": f"line {i}"})
    assert q.qsize() == 4
    texts = [json.loads(q.get_nowait().split(b"data: ")[1])["text"] for _ in range(4)]
    assert texts == ["line 6", "line 7", "line 8", "line 9"]
    # A page connecting now gets the whole log in its snapshot.
    snapshot = json.loads(hub.subscribe().get_nowait().split(b"data: ")[1])
    assert [entry["text"] for entry in snapshot["log"]] == [f"line {i}" for i in range(10)]
    for i in range(10):
        hub.publish("log", {"text": f"again {i}"})
    hub.close()
    drained = [q.get_nowait() for _ in range(q.qsize())]
    assert drained[-1] is None and len(drained) == 4
    assert hub.n_subscribers == 0
    with pytest.raises(ValueError, match="unknown event"):
        hub.publish("bogus", {})


# --- the server over HTTP ------------------------------------------------------------------------


def test_event_stream_follows_predictions_quality_markers_loss_and_recovery() -> None:
    name = unique_name()
    fake = FakePipeline(name, rate=20.0).start()
    try:
        with LiveViewServer(port=0, stream=name, lost_after=0.5) as server:
            stream = EventStream(server.url)
            first = stream.next()
            assert first is not None and first[0] == "snapshot"
            status = stream.until(is_state("connected"))[0][1]
            assert status["stream"]["name"] == name
            assert status["names"] == {"affect": name, "markers": f"{name}-markers", "quality": f"{name}-quality"}

            predictions = []

            def ten_predictions(event: str, data: dict) -> bool:
                if event == "affect":
                    predictions.append(data)
                return len(predictions) >= 10

            (_, quality), (_, marker), _ = stream.until(
                lambda e, d: e == "quality", lambda e, d: e == "log" and d["source"] == "markers", ten_predictions)
            shown = [fake.pushed_index([p[c] for c in AFFECT_CHANNELS], p["t"]) for p in predictions]
            assert shown == sorted(set(shown))  # each prediction once, in the order pushed
            assert all(p["latency_s"] >= 0 for p in predictions)
            assert len({p["valence"] for p in predictions}) == len(predictions)  # the point moves
            assert quality["labels"] == EEG_LABELS and len(quality["values"]) == len(EEG_LABELS)
            assert quality["values"][EEG_LABELS.index("T7")] < 0.5 and not quality["stale"]
            assert marker["text"] == "bad window"
            rate = stream.until(lambda e, d: e == "status" and d["rate_hz"] is not None)[0][1]["rate_hz"]
            assert rate == pytest.approx(20.0, rel=0.25)

            fake.stop()
            (_, lost), _ = stream.until(is_state("lost"), lambda e, d: e == "quality" and d["stale"])
            assert lost["rate_hz"] is None and lost["age_s"] >= 0.5

            fake.start()  # same name, type and source_id: liblsl's inlet recovery reconnects
            stream.until(is_state("recovered"), lambda e, d: e == "log" and "recovered" in d["text"])

            fake.stop()
            stream.until(is_state("lost"))
            fake.source_id = "restarted-with-another-source-id"  # the view finds it by name
            fake.start()
            status = stream.until(is_state("recovered"))[0][1]
            assert status["stream"]["source_id"] == fake.source_id
            stream.close()
    finally:
        fake.stop()


def test_view_works_without_quality_stream_and_late_pages_get_the_history() -> None:
    name = unique_name()
    with FakePipeline(name, rate=20.0, quality=False), LiveViewServer(port=0, stream=name, lost_after=1.0) as server:
        first = EventStream(server.url)
        first.until(lambda e, d: e == "affect")
        first.until(lambda e, d: e == "affect")  # a second, later prediction
        first.close()
        late = EventStream(server.url)
        name_, snapshot = late.next()
        assert name_ == "snapshot"
        assert len(snapshot["trace"]) >= 2 and snapshot["quality"] is None
        assert snapshot["status"]["state"] == "connected"
        late.close()


def test_wrong_stream_format_is_reported_by_name() -> None:
    name = unique_name()
    with FakePipeline(name, channels=3, quality=False), LiveViewServer(port=0, stream=name) as server:
        stream = EventStream(server.url)
        status = stream.until(is_state("error"))[0][1]
        assert name in status["message"] and "3 channels" in status["message"]
        stream.close()


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for key, value in attrs if key in ("src", "href") and value]


def test_page_and_its_files_are_served_locally_only() -> None:
    with LiveViewServer(port=0, stream=unique_name()) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url, timeout=10) as response:
            html = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/html")
            csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "connect-src 'self'" in csp
        parser = _LinkCollector()
        parser.feed(html)
        assert parser.links and all(link.startswith(("/static/", "data:")) for link in parser.links)
        for link in parser.links:
            if link.startswith("/static/"):
                with urllib.request.urlopen(server.url + link[1:], timeout=10) as response:
                    text = response.read().decode()
                # The only absolute URL in the page's files is the SVG namespace, which is never fetched.
                assert set(re.findall(r"https?://[^\s\"'`)]+", text)) <= {"http://www.w3.org/2000/svg"}

        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for path, host, expected in [
            ("/static/../server.py", "127.0.0.1", 404),
            ("/static/server.py", "127.0.0.1", 404),
            ("/nothing", "localhost", 404),
            ("/", f"attacker.example:{server.port}", 403),
        ]:
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            response.read()
            assert response.status == expected, path
            conn.close()


def test_close_ends_event_streams_and_stops_the_threads() -> None:
    name = unique_name()
    server = LiveViewServer(port=0, stream=name).start()
    stream = EventStream(server.url)
    assert stream.next()[0] == "snapshot"
    assert [t for t in threading.enumerate() if t.name.startswith(f"liveview:{name}")]
    server.close()
    while (item := stream.next()) is not None:
        assert item[0] in ("status", "log")
    assert not [t for t in threading.enumerate() if t.name.startswith(f"liveview:{name}")]


def test_server_rejects_bad_settings_and_a_taken_port() -> None:
    with pytest.raises(ConfigError, match="lost-after"):
        LiveViewServer(lost_after=0)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
            LiveViewServer(port=port, stream=unique_name()).start()
        result = CliRunner().invoke(app, ["liveview", "--port", str(port), "--stream", unique_name()])
        assert result.exit_code == 2 and "cannot listen" in result.output


def test_cli_names_a_missing_lsl_config_and_lists_its_options(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.cfg"
    result = CliRunner().invoke(app, ["liveview", "--lsl-config", str(missing)])
    assert result.exit_code == 2 and "nowhere.cfg" in result.output
    assert os.environ["LSLAPICFG"].endswith("lsl_api.cfg")
    help_text = CliRunner().invoke(app, ["liveview", "--help"]).output
    assert "--port" in help_text and "--lsl-config" in help_text


# --- the page in headless Chromium ---------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Chromium at /usr/bin/chromium, installed by tests/setup_browser.sh when missing; fails, never skips."""
    if not CHROMIUM.exists():
        done = subprocess.run(["bash", str(REPO / "tests" / "setup_browser.sh")], capture_output=True, text=True)
        if not CHROMIUM.exists():
            pytest.fail(
                f"the live-view browser test needs Chromium at {CHROMIUM}; tests/setup_browser.sh could not install it "
                f"(exit {done.returncode}): {done.stderr.strip()[-500:]}. Run `bash tests/setup_browser.sh` as root."
            )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the live-view browser test needs the playwright package: pip install -e '.[test]'")
    return CHROMIUM


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_page_in_headless_chromium_moves_the_point_and_shows_loss(chromium: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    name = unique_name()
    fake = FakePipeline(name, rate=4.0, backlog_s=45.0).start()
    try:
        with LiveViewServer(port=0, stream=name, lost_after=1.0) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1360, "height": 900})
                errors: list[str] = []
                requests: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("request", lambda request: requests.append(request.url))
                page.goto(server.url)

                def count() -> int:
                    return int(page.get_attribute("#circumplex", "data-count"))

                def point() -> tuple[float, float, float]:
                    attrs = page.eval_on_selector(
                        "#affect-point", "p => [p.getAttribute('cx'), p.getAttribute('cy'), p.dataset.valence]")
                    return float(attrs[0]), float(attrs[1]), float(attrs[2])

                page.wait_for_function("() => document.getElementById('status-state').textContent === 'connected'")
                page.wait_for_function("() => Number(document.getElementById('circumplex').dataset.count) > 0")
                before, n_before = point(), count()
                page.wait_for_function(
                    f"() => Number(document.getElementById('circumplex').dataset.count) >= {n_before + 4}")
                after = point()
                assert count() >= n_before + 4
                assert (after[0], after[1]) != (before[0], before[1])
                for cx, _, valence in (before, after):
                    assert cx == pytest.approx(X0 + (min(max(valence, 1), 5) - 1) * UNIT, abs=0.01)
                    assert any(valence == pytest.approx(s[1][0], abs=1e-6) for s in fake.pushed)

                page.wait_for_function("() => document.querySelectorAll('#quality-bars .qrow').length === 14")
                assert page.get_attribute("#quality-bars .qrow[data-channel='T7']", "class") == "qrow bad"
                page.wait_for_function("() => document.getElementById('log').textContent.includes('bad window')")
                page.wait_for_function("() => document.getElementById('status-rate').textContent.endsWith('/s')")

                shot = tmp_path / "liveview.png"
                page.screenshot(path=str(shot), full_page=True)
                assert _png_size(shot)[0] == 1360
                if target := os.environ.get("BIOSIG_LIVEVIEW_SCREENSHOT"):
                    Path(target).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(shot, target)

                fake.stop()
                page.wait_for_function("() => document.getElementById('status-state').textContent === 'lost'")
                assert page.get_attribute("#status", "data-state") == "lost"
                assert not errors
                assert requests and all(url.startswith(server.url) or url.startswith("data:") for url in requests)
            finally:
                browser.close()
    finally:
        fake.stop()
