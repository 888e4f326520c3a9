"""Peripheral (ECG/EDA) streams of the live pipeline: recent samples, events and features over trailing spans.

Each window gets, for each ECG/EDA stream, the features of
:mod:`biosig.features.peripheral_windows` (heart rate and HRV, tonic EDA and
SCRs) over the trailing ``peripheral_seconds`` of the stream ending with the
window (its last stamp plus one sample period, on the LSL clock), cut as
:mod:`graphs.training.windows_dataset` cuts it offline
(:func:`trailing_span`). The R-peaks and SCRs are found once, as the samples
arrive, by the causal detectors of :mod:`biosig.features.peripheral_causal`,
and each span's features come from the events confirmed by then
(:mod:`biosig.features.peripheral_span`, one span at a time): the
offline causal mode (``detect_*_events_causal`` on the whole recording) gives
the same events and features on the same samples. A span not yet full,
interrupted, or not reaching the window's end (the stream lags or was lost)
gives NaN features, as does a span the features cannot use (NaN samples, a
flat signal, too few beats).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from biosig.errors import ConfigError, DataError
from biosig.features.peripheral import ecg_window_features, eda_window_features
from biosig.features.peripheral_causal import CausalEcgDetector, CausalEdaDetector
from biosig.features.peripheral_span import ecg_span_features, eda_span_features
from streaming.buffer import RingBuffer
from streaming.model_io import PERIPHERAL_FEATURES, LiveModel, peripheral_nodes

# NeuroKit2's per-window functions check a span's length and rate; on a flat span they answer NaN at once.
_SETTINGS_CHECKS = {"ecg": ecg_window_features, "eda": eda_window_features}

# Peripheral history kept beyond one span, s: windows computed late from an EEG backlog still find theirs.
_PERIPHERAL_SLACK_S = 30.0


def trailing_span(stamps: np.ndarray, t_end: float, seconds: float, sfreq: float, tolerance: float) -> slice | None:
    """The samples of a peripheral stream over the ``seconds`` before ``t_end``, or None when unusable.

    The span is ``[t_end - seconds, t_end)`` cut as the offline pipeline cuts
    it (:mod:`graphs.training.windows_dataset`: first sample ``round((t_end -
    seconds) * sfreq)`` of a stream starting at 0 s, ``n = round(seconds *
    sfreq)`` samples): the ``n`` consecutive samples ending with the last one
    stamped at or before ``t_end - 0.5 / sfreq``. The live pipeline passes the
    EEG window's end, its last stamp plus one sample period at the model's
    rate, as the offline windows end at ``t_start + length``.

    Parameters
    ----------
    stamps
        The stream's held stamps ``(n_samples,)``, s, non-decreasing.
    t_end
        End of the span (exclusive), s, LSL clock.
    seconds
        Span length, s.
    sfreq
        The stream's nominal rate, Hz.
    tolerance
        Slack, s, for the two checks below (the pipeline's ``gap_tolerance``).

    Returns
    -------
    slice or None
        Indices into ``stamps``; None when fewer than ``n`` samples are held
        (not yet full), when the last one lies more than ``tolerance`` before
        where it should (``t_end - 1 / sfreq``, within half a period: the
        stream lags or was lost), or when the span lasts more than ``(n - 1) /
        sfreq + tolerance`` (a gap inside).
    """
    n = int(round(seconds * sfreq))
    half = 0.5 / sfreq
    stop = int(np.searchsorted(stamps, t_end - half, side="right"))
    if n < 1 or stop < n:
        return None
    first, last = stamps[stop - n], stamps[stop - 1]
    if last < t_end - 3 * half - tolerance or last - first > (n - 1) / sfreq + tolerance:
        return None
    return slice(stop - n, stop)


class PeripheralBuffer:
    """Recent samples of one peripheral signal (one channel), its events, and its features over trailing spans.

    The causal detector of the kind (:class:`~biosig.features.peripheral_causal.CausalEcgDetector`,
    :class:`~biosig.features.peripheral_causal.CausalEdaDetector`) sees every sample once, as it is
    added; events are kept as long as their samples are held (plus the last one before them).

    Parameters
    ----------
    kind
        ``"ecg"`` (volts) or ``"eda"`` (siemens).
    sfreq
        Nominal rate, Hz.
    seconds
        Span length, s.
    tolerance
        Slack for :func:`trailing_span`, s; a backward stamp step this large is a clock jump.
    history
        Seconds kept beyond one span, for spans ending in the past (windows
        computed late, a calibration's rest tiles).

    Raises
    ------
    ConfigError
        An unknown kind.
    DataError
        A span too short or a rate too low for the features (the message says which).
    """

    def __init__(
        self, kind: str, sfreq: float, seconds: float, tolerance: float, history: float = _PERIPHERAL_SLACK_S
    ) -> None:
        if kind not in PERIPHERAL_FEATURES:
            raise ConfigError(f"peripheral stream kind {kind!r} is not one of {list(PERIPHERAL_FEATURES)}")
        self.kind = kind
        self.sfreq = float(sfreq)
        self.seconds = float(seconds)
        self.tolerance = float(tolerance)
        self.names = PERIPHERAL_FEATURES[kind]
        n = int(round(self.seconds * self.sfreq))
        # A bad setting fails at start, not at every window.
        _SETTINGS_CHECKS[kind](np.zeros((1, max(n, 1))), self.sfreq)
        self._capacity = n + int(math.ceil(history * self.sfreq))
        self._reset()

    def _reset(self) -> None:
        """Empty buffer, fresh detector and no events (start, or a new clock)."""
        # EDA keeps the detector's tonic level beside each sample.
        self._buffer = RingBuffer(1 if self.kind == "ecg" else 2, self._capacity)
        self._detector = CausalEcgDetector(self.sfreq) if self.kind == "ecg" else CausalEdaDetector(self.sfreq)
        # Events, sample counts of the buffer: rows of (peak, confirming sample[, onset, amplitude µS]).
        self._events = np.zeros((0, 2 if self.kind == "ecg" else 4))
        self._last = -math.inf

    def add(self, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Append ``samples`` ``(n,)`` (SI units) stamped ``stamps`` ``(n,)`` s, and detect their events.

        A backward step of the stamps beyond the tolerance (a new clock) drops
        what came before; smaller disorder is made non-decreasing.
        """
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        t = np.asarray(stamps, dtype=np.float64).reshape(-1)
        if x.shape != t.shape:
            raise DataError(f"{self.kind} chunk of {x.size} samples with {t.size} stamps")
        if not len(t):
            return
        jumps = np.flatnonzero(np.diff(t, prepend=self._last) <= -self.tolerance)
        if jumps.size:
            self._reset()
            x, t = x[jumps[-1] :], t[jumps[-1] :]
        t = np.maximum.accumulate(np.maximum(t, self._last))
        if self.kind == "ecg":
            peaks, detected = self._detector.push(x)
            new, columns = (peaks, detected), x[:, None]
        else:
            tonic, onsets, peaks, amplitudes, detected = self._detector.push(x)
            new, columns = (peaks, detected, onsets, amplitudes), np.column_stack([x, tonic])
        self._buffer.append(columns, t)
        self._last = float(t[-1])
        if peaks.size:  # most hops confirm no event
            self._events = np.concatenate([self._events, np.column_stack(new)])
        # Keep the events of the held samples and the last one before them (an RR interval into the oldest span).
        before = int(self._events[:, 0].searchsorted(self._buffer.oldest, side="left"))
        if before > 1:
            self._events = self._events[before - 1 :]

    @property
    def newest(self) -> float:
        """Stamp of the newest sample held, s (-inf when none)."""
        return self._last

    def features(self, t_ends: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Features over the spans ending (exclusive) at ``t_ends`` (s): values ``(n, n_features)``, spans ``(n, 2)`` s.

        ``spans`` holds the stamps of the first and last samples used (NaN where :func:`trailing_span` is None).
        """
        values = np.full((len(t_ends), len(self.names)), np.nan)
        spans = np.full((len(t_ends), 2), np.nan)
        buffer = self._buffer
        stamps = buffer.stamps(buffer.oldest, buffer.count)
        n = int(round(self.seconds * self.sfreq))
        # Events and spans in the buffer's sample counts; only each span's samples are read.
        peaks, detected = self._events[:, 0].astype(np.int64), self._events[:, 1].astype(np.int64)
        for i, t_end in enumerate(t_ends):
            span = trailing_span(stamps, t_end, self.seconds, self.sfreq, self.tolerance)
            if span is None:
                continue
            spans[i] = stamps[span.start], stamps[span.stop - 1]
            first = buffer.oldest + span.start
            held = buffer.get(first, first + n)
            if self.kind == "ecg":
                values[i] = ecg_span_features(peaks, detected, held[:, 0], first, self.sfreq)
            else:
                values[i] = eda_span_features(peaks, detected, self._events[:, 3], held[:, 0], held[:, 1], first)
        return values, spans


def span_seconds(model: LiveModel, requested: float | None) -> float:
    """The ECG/EDA span, s: the model's unless asked otherwise (refused for a model with peripheral nodes).

    Without either, 10 s.

    Raises
    ------
    ConfigError
        ``requested`` differs from the span a model with peripheral nodes was trained on.
    """
    trained = model.spec.peripheral_seconds
    if requested is None:
        return 10.0 if trained is None else trained
    has_nodes = any(peripheral_nodes(e.model) for e in model.models)
    if trained is not None and abs(requested - trained) > 1e-9 and has_nodes:
        raise ConfigError(
            f"the model's ECG/EDA features span {trained:g} s (metadata peripheral.seconds); the pipeline was "
            f"asked for {requested:g} s (--peripheral-seconds): leave it out or give {trained:g}"
        )
    return float(requested)


def check_peripheral_nodes(model: LiveModel, streams: Collection[str]) -> None:
    """Every peripheral node of a model must be one of ``streams`` (kinds), with its number of features.

    Raises
    ------
    ConfigError
        A node the streams cannot feed (the message names the stream to give).
    """
    for entry in model.models:
        for kind, n in peripheral_nodes(entry.model):
            if kind not in streams or n != len(PERIPHERAL_FEATURES[kind]):
                known = {k: len(v) for k, v in PERIPHERAL_FEATURES.items()}
                raise ConfigError(
                    f"{entry.source}: {type(entry.model).__name__} has a peripheral node {kind!r} of {n} features; "
                    f"the pipeline reads {list(streams)} (nodes it can feed: {known}); give the "
                    f"{kind.upper()} stream (--{kind})"
                )
