"""What the live pipeline publishes: the affect stream, the marker stream, a prediction log.

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
(``stream``, ``samples``).

**Slow consumers never block the pipeline.** LSL outlets do not wait for
their consumers (liblsl buffers per consumer and drops the oldest). The
Python-side consumers (the iterator of :mod:`streaming.api`, the log writer)
read from a :class:`DropOldestQueue`: bounded, ``put`` never blocks, the
oldest item is dropped when full and the drop is counted.
"""

from __future__ import annotations

import csv
import json
import math
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pylsl

from biosig.errors import ConfigError
from streaming.buffer import Event
from streaming.online import WindowResult

AFFECT_STREAM_NAME = "biosig-affect"
AFFECT_STREAM_TYPE = "Affect"
MARKER_STREAM_NAME = f"{AFFECT_STREAM_NAME}-markers"
MARKER_STREAM_TYPE = "Markers"
#: Channels of the affect stream, in order.
AFFECT_CHANNELS: tuple[str, ...] = ("valence", "arousal", "valence_confidence", "arousal_confidence", "quality")
_UNITS = {"valence": "rating", "arousal": "rating", "valence_confidence": "probability",
          "arousal_confidence": "probability", "quality": "fraction"}  # fmt: skip
#: Columns of the prediction log.
LOG_COLUMNS: tuple[str, ...] = ("timestamp", "t_first", "window", "segment", *AFFECT_CHANNELS, "reasons")


def affect_row(result: WindowResult) -> list[float]:
    """The affect-stream sample of a window, in :data:`AFFECT_CHANNELS` order."""
    return [*(result.values[name] for name in AFFECT_CHANNELS[:4]), result.quality]


def marker_text(event: Event) -> str:
    """The marker string of an event: ``{"event": kind, ...detail}`` as JSON."""
    return json.dumps({"event": event.kind, **event.detail}, allow_nan=False, default=str)


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
        (:data:`MARKER_STREAM_NAME` by default).
    """

    def __init__(
        self,
        hop: float,
        window: float,
        models: Sequence[str] = (),
        source_id: str = "biosig-affect",
        name: str = AFFECT_STREAM_NAME,
    ) -> None:
        info = pylsl.StreamInfo(name, AFFECT_STREAM_TYPE, len(AFFECT_CHANNELS), 1.0 / hop, pylsl.cf_float32, source_id)
        channels = info.desc().append_child("channels")
        for label in AFFECT_CHANNELS:
            ch = channels.append_child("channel")
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

    def push(self, result: WindowResult) -> None:
        """Publish one window's prediction stamped with its last sample's LSL time."""
        self.outlet.push_sample(affect_row(result), result.t_last)

    def mark(self, event: Event) -> None:
        """Publish one state change on the marker stream."""
        self.markers.push_sample([marker_text(event)], event.time)

    def close(self) -> None:
        """Withdraw both streams."""
        self.outlet = None  # type: ignore[assignment]
        self.markers = None  # type: ignore[assignment]


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


class PredictionLog(threading.Thread):
    """Writes every window's prediction to CSV (``.csv``) or Parquet (``.parquet``) on its own thread.

    Rows (:data:`LOG_COLUMNS`): LSL stamps of the window's last and first
    samples, window and segment numbers, the affect channels, and the
    quality reasons joined with ``"; "``. Rows come through a
    :class:`DropOldestQueue` of ``queue_size``, so a slow disk drops rows
    (counted in :attr:`dropped`) rather than delaying predictions. CSV rows
    are flushed as they come; Parquet rows are written in row groups of
    ``batch`` rows and the file is complete once :meth:`close` returns.
    """

    def __init__(self, path: str | Path, queue_size: int = 4096, batch: int = 256) -> None:
        super().__init__(name="biosig-prediction-log", daemon=True)
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise ConfigError(f"prediction log {self.path}: use a .csv or .parquet file name")
        self.format = suffix[1:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.queue = DropOldestQueue(queue_size)
        self.batch = batch
        self.written = 0
        self.error: BaseException | None = None

    @property
    def dropped(self) -> int:
        """Rows dropped because the writer fell behind."""
        return self.queue.dropped

    def put(self, result: WindowResult) -> None:
        """Queue one window's row (never blocks)."""
        row = [result.t_last, result.t_first, result.index, result.segment, *affect_row(result)]
        self.queue.put([*row, "; ".join(result.reasons)])

    def close(self) -> None:
        """Write the remaining rows and close the file (joins the thread)."""
        self.queue.close()
        self.join()

    def run(self) -> None:
        try:
            if self.format == "csv":
                self._write_csv()
            else:
                self._write_parquet()
        except BaseException as exc:  # noqa: BLE001 - reported by the session
            self.error = exc

    def _rows(self, limit: int) -> list[list[Any]]:
        """Up to ``limit`` rows: waits for the first, then takes what is queued; [] once closed and drained."""
        try:
            rows = [self.queue.get()]
        except EOFError:
            return []
        while len(rows) < limit:
            try:
                rows.append(self.queue.get(timeout=0))
            except (TimeoutError, EOFError):
                break
        return rows

    def _write_csv(self) -> None:
        with self.path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(LOG_COLUMNS)
            while rows := self._rows(self.batch):
                writer.writerows([_csv_value(v) for v in row] for row in rows)
                handle.flush()
                self.written += len(rows)

    def _write_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema(
            [("timestamp", pa.float64()), ("t_first", pa.float64()), ("window", pa.int64()), ("segment", pa.int64())]
            + [(name, pa.float32()) for name in AFFECT_CHANNELS]
            + [("reasons", pa.string())]
        )
        with pq.ParquetWriter(self.path, schema) as writer:
            pending: list[list[Any]] = []
            while True:
                rows = self._rows(self.batch)
                pending += rows
                if pending and (len(pending) >= self.batch or not rows):
                    columns = list(zip(*pending, strict=True))
                    table = {name: list(col) for name, col in zip(LOG_COLUMNS, columns, strict=True)}
                    writer.write_table(pa.table(table, schema=schema))
                    self.written += len(pending)
                    pending = []
                if not rows:
                    return


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value
