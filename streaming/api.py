"""The live pipeline from Python: ``with biosig_stream(model=...) as s: for pred in s: ...``.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module.

A :class:`LiveSession` resolves the EEG stream (and any other streams, each
read at its own rate into its own ring buffer), checks it against the
model (channel names from the stream's XML or the query; every model channel
must be there, in any order; another rate than the model's is resampled),
then runs the :class:`~streaming.online.OnlinePipeline` on a processing
thread that wakes when samples arrive. With ``ecg``/``eda`` streams, each
window's features also hold the heart-rate/HRV and EDA features of the
trailing ``peripheral_seconds`` of those streams (NaN while not available); a
model with ECG/EDA nodes needs those streams (checked before any stream is
resolved) and gets the features minus the calibration rest's level;
``interpolate`` and ``ica`` choose the live bad-channel interpolation and a
fixed ICA cleaning (:mod:`streaming.spatial`). Every window is published on
the ``biosig-affect`` outlet, logged if asked, and queued for the iterator; state changes go to
``biosig-affect-markers`` and each window's per-channel quality to
``biosig-affect-quality`` (:mod:`streaming.outlet`); a Parquet log is
readable after any kill (:mod:`streaming.prediction_log`). When the EEG stream is
lost, the segment ends (filters and windows restart once samples return),
so no prediction ever covers the gap. The iterator's queue is bounded and
drops its oldest window when the consumer is slow (``stats()["dropped"]``).
The iterator yields every window (low-quality ones with NaN predictions)
until the session stops: leave the loop with ``break`` and the ``with``
block stops the session.

Examples
--------
>>> from streaming.lslconfig import use_lsl_config
>>> use_lsl_config()  # doctest: +SKIP
>>> from streaming.api import biosig_stream  # doctest: +SKIP
>>> with biosig_stream(model=["valence.pt", "arousal.pt"], eeg="type=EEG") as s:  # doctest: +SKIP
...     for pred in s:
...         print(pred.t_last, pred.values["valence"], pred.quality)
...         if pred.index >= 800:  # about 100 s at the default 125-ms hop
...             break
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import mne
import numpy as np
import torch
from threadpoolctl import threadpool_limits

from biosig.errors import BiosigError, ConfigError, DataError
from streaming.buffer import Event
from streaming.calibrate import StreamCalibrator
from streaming.inlet import StreamQuery, StreamReader
from streaming.model_io import LiveModel, load_live_model
from streaming.online import OnlinePipeline, QualityConfig, WindowResult
from streaming.outlet import AFFECT_STREAM_NAME, AffectOutlet, DropOldestQueue
from streaming.prediction_log import PredictionLog
from streaming.session_processing import SessionProcessing
from streaming.session_streams import ReaderOptions, check_peripheral_streams, peripheral_channel
from streaming.spatial import ica_map, load_ica

ModelArg = LiveModel | str | Path | Sequence[str | Path]


class LiveSession(SessionProcessing):
    """Live valence/arousal from an EEG stream (module docstring).

    Parameters
    ----------
    model
        A :class:`~streaming.model_io.LiveModel` or checkpoint path(s).
    eeg
        The EEG stream (:class:`~streaming.inlet.StreamQuery` or its text form, e.g. ``"type=EEG"``).
    streams
        Other streams to read alongside (ECG, EDA...), each at its own rate;
        their samples over a window are available from :meth:`signals`.
    hop
        Window hop in seconds (default: the model's).
    quality
        Signal-quality thresholds.
    outlet
        Publish the affect and marker streams.
    outlet_name, source_id
        Name and source id of the affect stream.
    log
        CSV or Parquet file receiving every prediction.
    queue_size
        Windows the iterator holds before dropping the oldest.
    resolve_timeout
        Seconds to find each stream at start.
    lost_after
        Seconds without samples after which a stream counts as lost.
    max_lag
        Skip windows ending more than this many seconds before the newest sample (None: never).
    gap_tolerance
        Stamp step beyond the sampling period that breaks the segment, s.
    dejitter
        liblsl's dejitter on the inlets.
    keep_signals
        Keep each window's filtered signal in its result.
    buffer_seconds
        Ring-buffer length of each stream, s.
    torch_threads
        If given, ``torch.set_num_threads`` and the BLAS thread pools
        (threadpoolctl) of this process, until :meth:`stop`. 1 keeps latency
        steady on a small machine: OpenBLAS workers spin between the small
        per-window channel maps (measured: 90% of a core at 64 channels x 512 Hz
        with 2 BLAS threads, a few % with one).
    calibrate
        Seconds of rest at the start of the stream (after the filter warm-up)
        that calibrate a model whose normalisation needs it
        (:mod:`streaming.calibrate`; with peripheral nodes, the ECG/EDA rest
        level too): the session publishes ``calibrating`` and ``calibrated``
        events, then predicts. None: the model must be calibrated already.
    ecg, eda
        ECG (volts) and EDA (siemens) streams whose features each window gets
        (:func:`streaming.online.trailing_span`); the first channel of the
        stream's type (``ecg``; ``eda`` or ``gsr``) is used, else its first channel.
    peripheral_seconds
        Length of the trailing ECG/EDA span, s; default: the model's
        (``peripheral.seconds`` of its checkpoints), else 10 s.
    interpolate
        Interpolate bad channels in the windows that get a prediction (None:
        when the montage has every channel's position).
    ica
        An ICA saved by MNE (``*-ica.fif``, :func:`streaming.spatial.fit_live_ica`)
        or a fitted one, applied to every window; None: no ICA.
    """

    def __init__(
        self,
        model: ModelArg,
        eeg: StreamQuery | str = "type=EEG",
        streams: Sequence[StreamQuery | str] = (),
        *,
        hop: float | None = None,
        quality: QualityConfig | None = None,
        outlet: bool = True,
        outlet_name: str = AFFECT_STREAM_NAME,
        source_id: str = "biosig-affect",
        log: str | Path | None = None,
        queue_size: int = 256,
        resolve_timeout: float = 2.0,
        lost_after: float = 2.0,
        max_lag: float | None = 1.0,
        gap_tolerance: float = 0.1,
        dejitter: bool = True,
        keep_signals: bool = False,
        buffer_seconds: float = 10.0,
        torch_threads: int | None = None,
        calibrate: float | None = None,
        ecg: StreamQuery | str | None = None,
        eda: StreamQuery | str | None = None,
        peripheral_seconds: float | None = None,
        interpolate: bool | None = None,
        ica: str | Path | mne.preprocessing.ICA | None = None,
    ) -> None:
        if isinstance(model, LiveModel):
            self.model = model
        else:
            self.model = load_live_model(model, hop=hop, allow_uncalibrated=calibrate is not None)
        if hop is not None and isinstance(model, LiveModel):
            self.model = LiveModel(model.spec.with_hop(hop), model.models)
        self.eeg_query = StreamQuery.parse(eeg) if isinstance(eeg, str) else eeg
        self.other_queries = [StreamQuery.parse(q) if isinstance(q, str) else q for q in streams]
        self.peripheral_queries = {
            kind: StreamQuery.parse(q) if isinstance(q, str) else q
            for kind, q in (("ecg", ecg), ("eda", eda))
            if q is not None
        }
        self.peripheral_seconds = peripheral_seconds
        self.interpolate = interpolate
        # Read and checked against the model's channels now, so that a missing or wrong file fails (naming
        # it) before any stream is resolved.
        self.ica = load_ica(ica) if isinstance(ica, str | Path) else ica
        if self.ica is not None:
            ica_map(self.ica, self.model.spec.channels, str(ica) if isinstance(ica, str | Path) else "ICA")
        self._peripheral: list[tuple[str, StreamReader, int]] = []
        self.quality = quality
        self.outlet_wanted = outlet
        self.outlet_name = outlet_name
        self.source_id = source_id
        self.log_path = log
        self.queue = DropOldestQueue(queue_size)
        self.resolve_timeout = resolve_timeout
        self.lost_after = lost_after
        self.max_lag = max_lag
        self.gap_tolerance = gap_tolerance
        self.dejitter = dejitter
        self.keep_signals = keep_signals
        self.buffer_seconds = buffer_seconds
        self.torch_threads = torch_threads
        self._blas_limits: threadpool_limits | None = None
        self.calibrate = calibrate
        self.calibrator: StreamCalibrator | None = None
        self.events: deque[Event] = deque(maxlen=1024)
        self.n_events = 0
        self.error: BaseException | None = None
        self.overruns = 0
        self.eeg: StreamReader | None = None
        self.others: list[StreamReader] = []
        self.pipeline: OnlinePipeline | None = None
        self.outlet: AffectOutlet | None = None
        self.log: PredictionLog | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> LiveSession:
        """Resolve the streams, check them against the model, start the threads.

        Raises
        ------
        DataError
            A stream is not found (the message lists those found), lacks a
            model channel, or has an irregular rate or one the model's cannot be
            reached from (:func:`biosig.preprocess.resample.resample_factors`).
        ConfigError
            The model needs a calibration and none was asked for,
            ``calibrate`` was given for a model with a fixed normalisation, or
            a model has ECG/EDA nodes whose streams were not given.
        """
        if self.torch_threads is not None:
            torch.set_num_threads(self.torch_threads)
            if self._blas_limits is None:
                self._blas_limits = threadpool_limits(limits=self.torch_threads, user_api="blas")
        spec = self.model.spec
        if self.calibrate is None and spec.needs_calibration:
            raise ConfigError(
                "the live model needs a calibration: give calibrate=SECONDS of rest at the start of the stream "
                "(biosig stream --calibrate) or calibrate its checkpoints with biosig calibrate"
            )
        check_peripheral_streams(self.model, self.peripheral_queries)
        readers = ReaderOptions(self.buffer_seconds, self.resolve_timeout, self.lost_after, self.dejitter)
        try:
            self.eeg = readers.open(self.eeg_query)
            where = f"LSL stream {self.eeg.name_!r}"
            if self.eeg.rate <= 0:
                raise DataError(f"{where} has an irregular rate; the live pipeline needs a nominal EEG rate")
            self._picks = self.eeg.layout.indices_of(spec.channels, where)
            self.others = [readers.open(q) for q in self.other_queries]
            for kind, query in self.peripheral_queries.items():
                reader = readers.open(query)
                self.others.append(reader)
                self._peripheral.append((kind, reader, peripheral_channel(kind, reader)))
            self._open_outputs()
        except BaseException:
            self._close_readers()
            raise
        for reader in (self.eeg, *self.others):
            reader.start()
        self._thread = threading.Thread(target=self._run, name="biosig-live-pipeline", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the threads, close the outlets and the log (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close_readers()
        if self.log is not None:
            self.log.close()
            if self.log.error is not None and self.error is None:
                self.error = self.log.error
        if self.outlet is not None:
            self.outlet.close()
            self.outlet = None
        self.queue.close()
        if self._blas_limits is not None:
            self._blas_limits.restore_original_limits()
            self._blas_limits = None

    def __enter__(self) -> LiveSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- consuming -----------------------------------------------------------------

    def __iter__(self) -> Iterator[WindowResult]:
        """Windows in order until the session stops; raises the processing thread's error if it failed."""
        while True:
            try:
                result = self.queue.get(timeout=0.5)
            except TimeoutError:
                self._raise_error()
                continue
            except EOFError:
                self._raise_error()
                return
            yield result

    def get(self, timeout: float | None = None) -> WindowResult | None:
        """The next window, or None after ``timeout`` s (or once stopped and drained)."""
        try:
            return self.queue.get(timeout=timeout)
        except (TimeoutError, EOFError):
            self._raise_error()
            return None

    def signals(self, stream: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Samples of another stream (by name) stamped ``t0 <= t < t1``: data ``(n, n_channels)`` in SI units, stamps.

        A window covers ``[t_first, t_first + length)`` on the LSL clock; the
        stream's ring buffer holds its last ``buffer_seconds``.
        """
        for reader in self.others:
            if reader.name_ == stream:
                return reader.buffer.between(t0, t1)
        raise DataError(f"no stream {stream!r} is read by this session; it reads {[r.name_ for r in self.others]}")

    def stats(self) -> dict[str, Any]:
        """Counters: the pipeline's, each reader's, and the dropped windows and log rows."""
        out: dict[str, Any] = dict(self.pipeline.stats.as_dict()) if self.pipeline else {}
        out["dropped"] = self.queue.dropped
        out["overruns"] = self.overruns
        if self.log is not None:
            out["log_rows"] = self.log.written
            out["log_dropped"] = self.log.dropped
        out["streams"] = {r.name_: vars(r.stats).copy() for r in (self.eeg, *self.others) if r is not None}
        return out

    def _close_readers(self) -> None:
        for reader in (self.eeg, *self.others):
            if reader is not None:
                reader.close()

    def _raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            if isinstance(error, BiosigError):
                raise error
            raise RuntimeError(f"the live pipeline stopped: {error!r}") from error


@contextlib.contextmanager
def biosig_stream(model: ModelArg, **options: Any) -> Iterator[LiveSession]:
    """Run a :class:`LiveSession` for the ``with`` block; options as :class:`LiveSession`'s.

    Examples
    --------
    >>> with biosig_stream(model="valence.pt", eeg="type=EEG", log="preds.csv") as s:  # doctest: +SKIP
    ...     for pred in s:
    ...         ...
    """
    session = LiveSession(model, **options)
    session.start()
    try:
        yield session
    finally:
        session.stop()
