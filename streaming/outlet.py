"""What the live pipeline publishes: the affect, marker and channel-quality streams; the bounded queue.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module.

**``biosig-affect``** (type ``Affect``, float32, nominal rate ``1 / hop``,
one sample per window), channels in this order (:data:`AFFECT_CHANNELS`):

==========================  =====================================================================
channel                     meaning
==========================  =====================================================================
``valence``, ``arousal``    expected rating over the model's class scale (SAM 1-5 for five-class
                            models, P(high) for binary ones), or a regression model's predicted
                            rating on its ``rating_range`` (e.g. 1-9 for DEAP); NaN when the window
                            is of low quality
``valence_confidence``,     largest class probability in [0, 1]; NaN for low-quality windows and
``arousal_confidence``      regression models
``quality``                 signal-quality index: fraction of good channels in [0, 1], 0 while
                            the filters warm up after a (re)start
==========================  =====================================================================

Each sample is stamped with the LSL time stamp of the window's last EEG
sample, so it lines up with the EEG in any recording. The XML ``desc`` holds
``channels/channel`` (``label``, ``unit``, ``type``) and ``biosig``
(``window_s``, ``hop_s``, ``models``).

**``biosig-affect-markers``** (type ``Markers``, one string channel,
irregular rate): one JSON object per state change, stamped with the event's
LSL time: ``{"event": kind, ...details}`` with kinds ``stream_lost``
(``stream``, ``reason``), ``stream_recovered`` (``stream``), ``gap`` /
``clock_jump`` (``from``, ``to``, ``jump_s``: the segment restarts),
``bad_window`` (``quality``, ``reasons``: the first low-quality window of a
run), ``quality_restored`` (``quality``) and ``buffer_overrun``
(``stream``, ``samples``), ``channel_bad`` (``channel``, ``reasons``,
``interpolated``: it turned persistently bad) and ``channel_restored``
(``channel``), ``layout_changed`` (``stream``, ``old_channels``,
``new_channels``, ``old_rate``, ``new_rate``: the stream came back with
another layout and the session stops). :meth:`streaming.buffer.Event.describe`
renders an event as one readable line.

**``biosig-affect-quality``** (type ``Quality``, float32, one channel per
EEG channel of the model in its order, labels in ``channels/channel``, nominal
rate ``1 / hop``): per window and channel 1 (good), 0 (bad in the window or
persistently bad), NaN while the filters warm up, stamped as the window's
affect sample (:attr:`streaming.online.WindowResult.channel_quality`); what
the live view's channel-quality panel reads (:mod:`streaming.liveview`).

**Slow consumers never block the pipeline.** LSL outlets do not wait for
their consumers (liblsl buffers per consumer and drops the oldest). The
Python-side consumers (the iterator of :mod:`streaming.api`, the log writer)
read from a :class:`DropOldestQueue`: bounded, ``put`` never blocks, the
oldest item is dropped when full and the drop is counted.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

import pylsl

from biosig.errors import ConfigError
from streaming.buffer import Event
from streaming.online import WindowResult

AFFECT_STREAM_NAME = "biosig-affect"
AFFECT_STREAM_TYPE = "Affect"
MARKER_STREAM_NAME = f"{AFFECT_STREAM_NAME}-markers"
MARKER_STREAM_TYPE = "Markers"
QUALITY_STREAM_NAME = f"{AFFECT_STREAM_NAME}-quality"
QUALITY_STREAM_TYPE = "Quality"
#: Channels of the affect stream, in order.
AFFECT_CHANNELS: tuple[str, ...] = ("valence", "arousal", "valence_confidence", "arousal_confidence", "quality")
_UNITS = {"valence": "rating", "arousal": "rating", "valence_confidence": "probability",
          "arousal_confidence": "probability", "quality": "fraction"}  # fmt: skip


def affect_row(result: WindowResult) -> list[float]:
    """The affect-stream sample of a window, in :data:`AFFECT_CHANNELS` order."""
    return [*(result.values[name] for name in AFFECT_CHANNELS[:4]), result.quality]


def marker_text(event: Event) -> str:
    """The marker string of an event: ``{"event": kind, ...detail}`` as JSON."""
    return json.dumps({"event": event.kind, **event.detail}, allow_nan=False, default=str)


def describe_marker(text: str, stamp: float = 0.0) -> str:
    """A marker string as one readable line (:meth:`~streaming.buffer.Event.describe`); other text unchanged.

    For event lists that read the marker stream (the live view): ``text`` is
    a sample of ``NAME-markers``, ``stamp`` its LSL time, s.
    """
    try:
        fields = json.loads(text)
    except ValueError:
        return text
    if not isinstance(fields, dict) or not isinstance(fields.get("event"), str):
        return text
    kind = fields.pop("event")
    return Event(kind, stamp, fields).describe()


class AffectOutlet:
    """The ``biosig-affect`` and ``biosig-affect-markers`` outlets (module docstring).

    Parameters
    ----------
    hop, window
        Window hop and length, s (the nominal rate is ``1 / hop``).
    models
        Model descriptions for the XML (e.g. ``"valence: histn"``).
    source_id
        LSL source id of the affect stream; the marker stream appends ``-markers``.
    name
        Stream name (default :data:`AFFECT_STREAM_NAME`); the marker stream is ``<name>-markers``
        (:data:`MARKER_STREAM_NAME` by default), the quality stream ``<name>-quality``.
    channels
        EEG channel names of the per-channel quality stream (its labels, in
        the model's order); empty: no quality stream.
    """

    def __init__(
        self,
        hop: float,
        window: float,
        models: Sequence[str] = (),
        source_id: str = "biosig-affect",
        name: str = AFFECT_STREAM_NAME,
        channels: Sequence[str] = (),
    ) -> None:
        info = pylsl.StreamInfo(name, AFFECT_STREAM_TYPE, len(AFFECT_CHANNELS), 1.0 / hop, pylsl.cf_float32, source_id)
        affect_channels = info.desc().append_child("channels")
        for label in AFFECT_CHANNELS:
            ch = affect_channels.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", _UNITS[label])
            ch.append_child_value("type", "Affect")
        meta = info.desc().append_child("biosig")
        meta.append_child_value("window_s", f"{window:g}")
        meta.append_child_value("hop_s", f"{hop:g}")
        meta.append_child_value("models", "; ".join(models))
        self.outlet = pylsl.StreamOutlet(info)
        markers = pylsl.StreamInfo(
            f"{name}-markers", MARKER_STREAM_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"{source_id}-markers"
        )
        self.markers = pylsl.StreamOutlet(markers)
        self.quality: pylsl.StreamOutlet | None = None
        if channels:
            quality = pylsl.StreamInfo(
                f"{name}-quality", QUALITY_STREAM_TYPE, len(channels), 1.0 / hop, pylsl.cf_float32,
                f"{source_id}-quality",
            )  # fmt: skip
            described = quality.desc().append_child("channels")
            for label in channels:
                ch = described.append_child("channel")
                ch.append_child_value("label", label)
                ch.append_child_value("type", QUALITY_STREAM_TYPE)
                ch.append_child_value("unit", "fraction")
            self.quality = pylsl.StreamOutlet(quality)

    def push(self, result: WindowResult) -> None:
        """Publish one window's prediction (and channel quality) stamped with its last sample's LSL time."""
        self.outlet.push_sample(affect_row(result), result.t_last)
        if self.quality is not None and result.channel_quality is not None:
            self.quality.push_sample(result.channel_quality.tolist(), result.t_last)

    def mark(self, event: Event) -> None:
        """Publish one state change on the marker stream."""
        self.markers.push_sample([marker_text(event)], event.time)

    def close(self) -> None:
        """Withdraw the streams."""
        self.outlet = None  # type: ignore[assignment]
        self.markers = None  # type: ignore[assignment]
        self.quality = None


class DropOldestQueue:
    """A bounded FIFO whose ``put`` never blocks: when full, the oldest item is dropped and counted.

    Parameters
    ----------
    maxsize
        Items held at most (>= 1).
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ConfigError(f"queue size must be at least 1; got {maxsize}")
        self._items: deque[Any] = deque(maxlen=maxsize)
        self._cond = threading.Condition()
        self.dropped = 0
        self.closed = False

    def put(self, item: Any) -> None:
        """Add ``item``; drops the oldest when full."""
        with self._cond:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Any:
        """The oldest item, waiting up to ``timeout`` s.

        Raises ``TimeoutError`` when none came in time, ``EOFError`` once closed and empty.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self.closed, timeout=timeout):
                raise TimeoutError("no item within the timeout")
            if not self._items:
                raise EOFError("the queue is closed")
            return self._items.popleft()

    def close(self) -> None:
        """No more items will come; waiting readers return once the queue is empty."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)
