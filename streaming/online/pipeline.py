"""The online pipeline's façade: :class:`OnlinePipeline` composes the stages of :mod:`streaming.online`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import mne
import numpy as np

from biosig.errors import ConfigError, DataError
from biosig.preprocess.causal import CausalFilter
from biosig.preprocess.resample import CausalResampler
from graphs.positions import TEMPLATE
from streaming.model_io import LiveModel, LiveSpec
from streaming.online.cleaning import SpatialCleaner
from streaming.online.dsp import StreamDSP
from streaming.online.peripheral import PeripheralBuffer, check_peripheral_nodes, span_seconds
from streaming.online.prediction import Predictor
from streaming.online.quality import (
    ChannelStates,
    QualityConfig,
    QualityRuns,
    gate_quality,
    raw_stats,
    window_quality,
)
from streaming.online.results import PipelineStats, Step, WindowResult
from streaming.online.schedule import WindowSchedule


class OnlinePipeline:
    """Causal preprocessing, windows, features and predictions of one EEG stream (:mod:`streaming.online`).

    Parameters
    ----------
    model
        The models and their input definition.
    quality
        Signal-quality thresholds.
    gap_tolerance
        Largest step between consecutive stamps (s) that still counts as
        continuous, beyond the sampling period; a backward step this large is
        a clock jump.
    max_lag
        Skip windows ending more than this many seconds before the newest
        sample (None: compute every window, e.g. to compare with offline).
    keep_signals
        Keep each window's cleaned signal in its result.
    stream_sfreq
        The EEG stream's rate, Hz (default: the model's); another rate is
        resampled to the model's.
    interpolate
        Interpolate bad channels in the windows that get a prediction. None:
        when every channel has a position in ``montage``; True: required
        (:class:`DataError` naming the channels without a position).
    montage
        Electrode positions for the interpolation (as
        :func:`graphs.positions.electrode_positions`).
    ica
        A fitted ICA (its ``exclude`` list applied), or the path of one saved
        by MNE (``*-ica.fif``); None for no ICA.
    peripheral
        Rate (Hz) of each peripheral stream fed with :meth:`add_peripheral`,
        by kind: ``{"ecg": 256.0, "eda": 64.0}``; a model with peripheral nodes
        needs the streams its nodes name (:class:`ConfigError` otherwise).
    peripheral_seconds
        Length of the trailing span of the peripheral features, s; default:
        the model's (``spec.peripheral_seconds``), else 10 s. Another length
        than the model's is a :class:`ConfigError`.
    """

    def __init__(
        self,
        model: LiveModel,
        quality: QualityConfig | None = None,
        gap_tolerance: float = 0.1,
        max_lag: float | None = 1.0,
        keep_signals: bool = False,
        *,
        stream_sfreq: float | None = None,
        interpolate: bool | None = None,
        montage: str | mne.channels.DigMontage = TEMPLATE,
        ica: mne.preprocessing.ICA | str | Path | None = None,
        peripheral: Mapping[str, float] | None = None,
        peripheral_seconds: float | None = None,
    ) -> None:
        self.model = model
        self.spec: LiveSpec = model.spec
        self.quality = quality or QualityConfig()
        self.gap_tolerance = float(gap_tolerance)
        self.max_lag = max_lag
        self.keep_signals = keep_signals
        spec = self.spec
        self.n_channels = len(spec.channels)
        self.n_window = spec.n_window
        if self.n_window < 2:
            raise ConfigError(f"window.length {spec.window.length} s is shorter than two samples at {spec.sfreq} Hz")
        self.stream_sfreq = float(spec.sfreq if stream_sfreq is None else stream_sfreq)
        self.stats = PipelineStats()
        self.dsp = StreamDSP(spec, self.stream_sfreq, self.quality.raw_limit, self.stats)
        self.cleaner = SpatialCleaner(spec, interpolate, montage, ica, self.stats)
        self.peripheral_seconds = span_seconds(model, peripheral_seconds)
        self.peripheral = {
            kind: PeripheralBuffer(kind, rate, self.peripheral_seconds, self.gap_tolerance)
            for kind, rate in (peripheral or {}).items()
        }
        check_peripheral_nodes(model, self.peripheral)
        self.predictor = Predictor(model)
        self.schedule = WindowSchedule(spec, self.stream_sfreq, self.gap_tolerance, max_lag, self.stats)
        self._quality_runs = QualityRuns()
        self.channel_states = ChannelStates(spec.channels, self.quality.bad_after, self.quality.good_after)
        self._start_segment()

    @property
    def filter(self) -> CausalFilter:
        """The notch and band-pass cascade at the stream's rate."""
        return self.dsp.filter

    @property
    def resampler(self) -> CausalResampler | None:
        """The resampler to the model's rate (None when the stream is at it)."""
        return self.dsp.resampler

    @property
    def warmup(self) -> int:
        """Model-rate samples of a segment that still ring from the zero state of the filters and the resampler."""
        return self.dsp.warmup

    # -- public -----------------------------------------------------------------

    def process(self, data: np.ndarray, stamps: np.ndarray) -> Step:
        """Feed one chunk; return the windows it completes and the events it caused.

        Parameters
        ----------
        data
            ``(n_samples, n_channels)`` in volts, channels in model order, at
            the stream's rate. NaN/inf allowed (flagged, never filtered).
        stamps
            ``(n_samples,)`` LSL time stamps in s.
        """
        x = np.asarray(data, dtype=np.float64)
        t = np.asarray(stamps, dtype=np.float64).reshape(-1)
        if x.ndim != 2 or x.shape[1] != self.n_channels or x.shape[0] != t.shape[0]:
            raise DataError(
                f"chunk of shape {x.shape} with {t.shape[0]} stamps; expected (n_samples, {self.n_channels}) "
                "with one stamp per sample"
            )
        step = Step()
        if not len(t):
            return step
        self.stats.chunks += 1
        self.stats.samples += len(t)
        # For max_lag: windows are judged against the whole chunk's newest sample.
        self.schedule.newest = float(np.max(t))
        start = 0
        for cut, event in self.schedule.breaks(t):
            self._ingest(x[start:cut], t[start:cut], step)
            step.events.append(event)
            self._start_segment()
            start = cut
        self._ingest(x[start:], t[start:], step)
        return step

    def add_peripheral(self, kind: str, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Feed samples ``(n,)`` of a peripheral stream (ECG in volts, EDA in siemens) with their LSL stamps.

        Feed them before the EEG chunks whose windows need them: a window's
        span is taken when the window is computed.
        """
        if kind not in self.peripheral:
            raise ConfigError(f"no peripheral stream {kind!r}: the pipeline was given {list(self.peripheral)}")
        self.peripheral[kind].add(samples, stamps)

    def restart(self) -> None:
        """End the current segment from outside (the stream was lost): filters and windows start afresh."""
        self._start_segment()
        self.schedule.forget_stamp()

    # -- samples ------------------------------------------------------------------

    def _start_segment(self) -> None:
        self.dsp.reset()
        self.schedule.start_segment()

    def _ingest(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        piece = self.dsp.piece
        for lo in range(0, len(t), piece):
            self._ingest_piece(x[lo : lo + piece], t[lo : lo + piece], step)

    def _ingest_piece(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        t = self.schedule.monotonic(t, restart=self.dsp.seg_in == 0)
        self.dsp.push(x, t)
        due = self.schedule.due(self.dsp.seg_samples)
        if due:
            self._windows(due, step)

    # -- windows --------------------------------------------------------------------

    def _windows(self, due: list[tuple[int, int]], step: Step) -> None:
        """Compute the windows ``due`` (``(k, first sample)`` within the segment) that are not too late."""
        spec = self.spec
        ready = []
        for _, start in due:
            t_last = self.dsp.last_stamp(start)
            if not self.schedule.lagging(t_last):
                ready.append((start, t_last))
        if not ready:
            return
        t0 = time.perf_counter()
        starts = [start for start, _ in ready]
        signals = self.dsp.signals(starts)
        ptp, invalid = raw_stats([self.dsp.raw_span(start) for start in starts], self.n_channels)
        quality, reasons, bad = window_quality(signals, ptp, invalid, starts, self.warmup, spec.channels, self.quality)
        persistent, channel_events = self._channel_states(bad, reasons, starts, [t for _, t in ready])
        gate, interpolate = gate_quality(quality, bad, persistent, self.cleaner.interpolates, self.quality)
        good = gate >= self.quality.min_quality
        signals = self.cleaner.clean(signals, interpolate, good)
        channel_quality = np.where(np.array(starts)[:, None] < self.warmup, np.nan, 1.0 - (bad | persistent))
        power, de, faa = self.predictor.eeg_features(signals)
        # A window ends one sample after its last one, as offline windows end at t_start + length.
        t_ends = [t_last + 1.0 / spec.sfreq for _, t_last in ready]
        peripheral = {kind: buffer.features(t_ends) for kind, buffer in self.peripheral.items()}
        values = self.predictor.values(signals, power, {k: v for k, (v, _) in peripheral.items()}, good)
        self.stats.compute_seconds += time.perf_counter() - t0
        for i, (start, t_last) in enumerate(ready):
            features = {"band_power": power[i], "de": de[i]}
            if faa is not None:
                features["faa"] = faa[i]
            for kind, (feats, spans) in peripheral.items():
                features[kind] = feats[i]
                features[f"{kind}_span"] = spans[i]
            result = WindowResult(
                index=self.schedule.window_index,
                segment=self.schedule.segment,
                t_first=self.dsp.first_stamp(start),
                t_last=t_last,
                values={name: float(values[name][i]) for name in values},
                quality=float(quality[i]),
                reasons=reasons[i],
                features=features,
                predicted=bool(good[i]),
                signal=signals[i] if self.keep_signals else None,
                channel_quality=channel_quality[i],
            )
            self.schedule.window_index += 1
            self.stats.windows += 1
            if result.predicted:
                self.stats.predictions += 1
            else:
                self.stats.low_quality_windows += 1
            step.events += channel_events[i]
            event = self._quality_runs.event(result)
            if event is not None:
                step.events.append(event)
            step.windows.append(result)

    def _channel_states(
        self, bad: np.ndarray, reasons: list[tuple[str, ...]], starts: list[int], stamps: list[float]
    ) -> tuple[np.ndarray, list[list]]:
        """Each window's persistently bad channels ``(n_windows, n_channels)`` and its channel events.

        Warm-up windows (filter ringing) leave the channel states as they are.
        """
        persistent = np.empty_like(bad)
        events: list[list] = []
        interpolated = self.cleaner.interpolates and self.quality.max_interpolated > 0
        for w, start in enumerate(starts):
            found = []
            if start >= self.warmup:
                found = self.channel_states.update(bad[w], reasons[w], stamps[w], interpolated)
            persistent[w] = self.channel_states.persistent
            events.append(found)
        return persistent, events
