"""The processing thread of a live session: ring buffers -> pipeline -> outlet, log and iterator queue.

:class:`SessionProcessing` is the part of :class:`~streaming.api.LiveSession`
that runs on its processing thread: it wakes when EEG samples arrive, feeds
the other streams' new samples first (ECG/EDA to the pipeline's peripheral
buffers and the calibration), then the EEG chunks to the calibration while
it lasts and to the :class:`~streaming.online.OnlinePipeline`; every window
goes to the affect outlet, the log and the iterator's queue, every event to
the marker outlet. A lost EEG stream or an overrun ring buffer ends the
pipeline's segment, so no prediction covers the gap. A stream that comes
back with another channel layout stops the session after a
``layout_changed`` marker naming the old and new channels (also logged as a
warning on this module's logger).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

import mne
import numpy as np

from streaming.buffer import Cursor, Event, Read
from streaming.calibrate import StreamCalibrator
from streaming.inlet import LayoutChangedError, StreamReader
from streaming.model_io import LiveModel
from streaming.online import OnlinePipeline, QualityConfig
from streaming.outlet import AffectOutlet, DropOldestQueue
from streaming.prediction_log import PredictionLog

logger = logging.getLogger(__name__)


class SessionProcessing:
    """The processing-thread methods of :class:`~streaming.api.LiveSession` (module docstring).

    The attributes below are the session's (set in its constructor and
    :meth:`~streaming.api.LiveSession.start`).
    """

    model: LiveModel
    calibrate: float | None
    outlet_wanted: bool
    outlet_name: str
    source_id: str
    log_path: str | Path | None
    quality: QualityConfig | None
    max_lag: float | None
    gap_tolerance: float
    keep_signals: bool
    interpolate: bool | None
    ica: mne.preprocessing.ICA | None
    peripheral_seconds: float | None
    eeg: StreamReader | None
    others: list[StreamReader]
    pipeline: OnlinePipeline | None
    calibrator: StreamCalibrator | None
    outlet: AffectOutlet | None
    log: PredictionLog | None
    queue: DropOldestQueue
    events: deque[Event]
    n_events: int
    overruns: int
    error: BaseException | None
    _peripheral: list[tuple[str, StreamReader, int]]
    _picks: np.ndarray
    _stop: threading.Event

    def _open_outputs(self) -> None:
        """The pipeline, the calibration (when asked), the affect outlet and the log, once the streams are open."""
        assert self.eeg is not None
        spec = self.model.spec
        self.pipeline = self._make_pipeline()
        if self.calibrate is not None:
            self.calibrator = StreamCalibrator(
                spec, self.calibrate, self.gap_tolerance, self.quality, stream_sfreq=self.eeg.rate, ica=self.ica,
                peripheral={kind: reader.rate for kind, reader, _ in self._peripheral},
            )  # fmt: skip
        if self.outlet_wanted:
            models = [f"{'+'.join(e.targets)}: {type(e.model).__name__}" for e in self.model.models]
            self.outlet = AffectOutlet(
                spec.window.hop, spec.window.length, models, self.source_id, self.outlet_name, spec.channels
            )
        if self.log_path is not None:
            self.log = PredictionLog(self.log_path)
            self.log.start()

    def _run(self) -> None:
        assert self.eeg is not None and self.pipeline is not None
        cursor = Cursor()
        other_cursors = [Cursor() for _ in self.others]
        kinds = {id(reader): (kind, channel) for kind, reader, channel in self._peripheral}
        try:
            while not self._stop.is_set():
                for reader in (self.eeg, *self.others):
                    if reader.error is not None:
                        self._reader_failed(reader.error)
                new_eeg = self.eeg.buffer.wait(cursor, timeout=0.2)
                # The other streams first: the EEG windows about to close take their peripheral spans.
                for reader, other in zip(self.others, other_cursors, strict=True):
                    read = reader.buffer.read(other)
                    if read.missed:
                        self._overrun(reader, read.missed)
                    if id(reader) in kinds and len(read.stamps):
                        kind, channel = kinds[id(reader)]
                        self.pipeline.add_peripheral(kind, read.data[:, channel], read.stamps)
                        if self.calibrator is not None:
                            self.calibrator.feed_peripheral(kind, read.data[:, channel], read.stamps)
                    for _, event in read.events:
                        self._publish_event(event)
                if new_eeg:
                    self._consume(self.eeg.buffer.read(cursor))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer by __iter__
            self.error = exc
            self.queue.close()

    def _consume(self, read: Read) -> None:
        assert self.eeg is not None and self.pipeline is not None
        if read.missed:
            self._overrun(self.eeg, read.missed)
            self.pipeline.restart()
        lo = 0
        for position, event in read.events:
            cut = min(max(position - read.start, lo), len(read.stamps))
            self._process(read.data[lo:cut], read.stamps[lo:cut])
            lo = cut
            if event.kind == "stream_lost":
                self.pipeline.restart()
            self._publish_event(event)
        self._process(read.data[lo:], read.stamps[lo:])

    def _process(self, data: np.ndarray, stamps: np.ndarray) -> None:
        if not len(stamps):
            return
        assert self.pipeline is not None
        if self.calibrator is not None:
            data, stamps = self._calibrate(data, stamps)
            if not len(stamps):
                return
        step = self.pipeline.process(data[:, self._picks], stamps)
        for event in step.events:
            self._publish_event(event)
        for result in step.windows:
            if self.outlet is not None:
                self.outlet.push(result)
            if self.log is not None:
                self.log.put(result)
            self.queue.put(result)

    def _make_pipeline(self) -> OnlinePipeline:
        assert self.eeg is not None
        return OnlinePipeline(
            self.model, self.quality, gap_tolerance=self.gap_tolerance, max_lag=self.max_lag,
            keep_signals=self.keep_signals, stream_sfreq=self.eeg.rate, interpolate=self.interpolate, ica=self.ica,
            peripheral={kind: reader.rate for kind, reader, _ in self._peripheral},
            peripheral_seconds=self.peripheral_seconds,
        )  # fmt: skip

    def _calibrate(self, data: np.ndarray, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed the calibration; once complete, a pipeline of the calibrated model. The samples it left."""
        assert self.calibrator is not None
        used, events = self.calibrator.feed(data[:, self._picks], stamps)
        for event in events:
            self._publish_event(event)
        done = self.calibrator.result
        if done is None:
            return data[:0], stamps[:0]
        spec = self.model.spec.calibrated(done.stats.mean, done.stats.std, done.peripheral)
        self.model = LiveModel(spec, self.model.models)
        # A fresh pipeline: its filters warm up again from a zero state, its first window starts after the rest.
        previous, self.pipeline = self.pipeline, self._make_pipeline()
        # The ECG/EDA history stays: the first windows after the rest already have their trailing spans.
        self.pipeline.peripheral = previous.peripheral
        self.calibrator = None
        return data[used:], stamps[used:]

    def _publish_event(self, event: Event) -> None:
        self.events.append(event)
        self.n_events += 1
        if self.outlet is not None:
            self.outlet.mark(event)

    def _reader_failed(self, error: BaseException) -> None:
        """Say why a reader stopped (a ``layout_changed`` marker, a log warning naming what changed), then raise."""
        if isinstance(error, LayoutChangedError):
            import pylsl

            detail = {
                "stream": error.stream, "old_channels": error.old_channels, "new_channels": error.new_channels,
                "old_rate": error.old_rate, "new_rate": error.new_rate,
            }  # fmt: skip
            event = Event("layout_changed", pylsl.local_clock(), detail)
            logger.warning("%s (%s)", event.describe(), error)
            self._publish_event(event)
        raise error

    def _overrun(self, reader: StreamReader, missed: int) -> None:
        import pylsl

        self.overruns += 1
        detail = {"stream": reader.name_, "samples": int(missed)}
        self._publish_event(Event("buffer_overrun", pylsl.local_clock(), detail))
