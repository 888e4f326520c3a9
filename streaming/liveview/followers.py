"""The live view's LSL followers: one thread per stream, turning its samples into hub events.

A follower finds its stream by name, keeps one inlet on it and publishes
what arrives to the :class:`~streaming.liveview.hub.Hub`:
:class:`AffectFollower` the predictions (``affect``) and the stream state
(``status``), :class:`MarkerFollower` the markers (``log``) and
:class:`QualityFollower` the per-channel quality (``quality``). The stream
formats are in :mod:`streaming.liveview`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any

import pylsl

from streaming.liveview import AFFECT_CHANNELS
from streaming.liveview.hub import Hub, finite_or_none
from streaming.outlet import describe_marker

log = logging.getLogger(__name__)

#: Longest time (s) a follower blocks in liblsl before it checks for shutdown and stream loss.
POLL_S: float = 0.25
#: Period (s) of ``status`` events (they carry the age of the last update, so the page sees time pass).
STATUS_EVERY_S: float = 1.0
#: Time (s) the status stays "recovered" after the stream came back, before it reads "connected".
RECOVERED_HOLD_S: float = 5.0
#: Number of recent prediction stamps the rate is computed from.
RATE_SAMPLES: int = 20


def _log_line(text: str, level: str = "info", source: str = "liveview", stamp: float | None = None) -> dict[str, Any]:
    """A ``log`` event payload; ``wall`` is the server's Unix time (s), ``t`` the LSL stamp (s) if any."""
    return {"wall": time.time(), "t": stamp, "source": source, "level": level, "text": text}


class Follower(threading.Thread):
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


class AffectFollower(Follower):
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


class MarkerFollower(Follower):
    """Follows the pipeline's marker stream; every marker becomes a ``log`` event.

    The event's ``text`` is the marker as one readable line
    (:func:`streaming.outlet.describe_marker`); ``marker`` keeps the marker as
    sent (the structured JSON), which the page shows as the line's tooltip.
    """

    def check(self, info: pylsl.StreamInfo) -> str | None:
        if info.channel_format() != pylsl.cf_string:
            return f"LSL stream {self.stream!r} is not a string marker stream; its markers are not shown"
        return None

    def attach(self, info: pylsl.StreamInfo) -> None:
        self.hub.publish("log", _log_line(f"marker stream {self.stream!r} found on {info.hostname()}"))

    def receive(self, samples: list[list[Any]], stamps: list[float], now: float) -> None:
        for sample, stamp in zip(samples, stamps):
            marker = str(sample[0])
            line = _log_line(describe_marker(marker, stamp), source="markers", stamp=stamp)
            self.hub.publish("log", {**line, "marker": marker})


class QualityFollower(Follower):
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
