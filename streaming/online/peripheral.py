"""Peripheral (ECG/EDA) streams of the live pipeline: recent samples and features over trailing spans.

Each window gets, for each ECG/EDA stream, the features of
:mod:`biosig.features.peripheral` (heart rate and HRV, tonic EDA and SCRs)
over the trailing ``peripheral_seconds`` of the stream ending with the
window (its last stamp plus one sample period, on the LSL clock), cut as
:mod:`graphs.training.windows_dataset` cuts it offline
(:func:`trailing_span`). A span not yet full, interrupted, or not reaching
the window's end (the stream lags or was lost) gives NaN features, as does a
span the feature functions cannot use (NaN samples, a flat signal, too few
beats).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from biosig.errors import ConfigError, DataError
from biosig.features.peripheral import ecg_window_features, eda_window_features
from streaming.buffer import RingBuffer
from streaming.model_io import PERIPHERAL_FEATURES, LiveModel, peripheral_nodes

_FEATURE_FUNCTIONS = {"ecg": ecg_window_features, "eda": eda_window_features}

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
    """Recent samples of one peripheral signal (one channel) and its features over trailing spans.

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
        A span too short or a rate too low for the feature functions (their message).
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
        # The feature functions check span length and rate themselves (DataError); a flat span answers
        # NaN without running NeuroKit2, so this makes a bad setting fail at start, not at every window.
        _FEATURE_FUNCTIONS[kind](np.zeros((1, max(n, 1))), self.sfreq)
        self._capacity = n + int(math.ceil(history * self.sfreq))
        self._buffer = RingBuffer(1, self._capacity)
        self._last = -math.inf

    def add(self, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Append ``samples`` ``(n,)`` (SI units) stamped ``stamps`` ``(n,)`` s.

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
            self._buffer = RingBuffer(1, self._capacity)
            self._last = -math.inf
            x, t = x[jumps[-1] :], t[jumps[-1] :]
        t = np.maximum.accumulate(np.maximum(t, self._last))
        self._buffer.append(x[:, None], t)
        self._last = float(t[-1])

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
        data = buffer.get(buffer.oldest, buffer.count)[:, 0]
        rows, segments = [], []
        for i, t_end in enumerate(t_ends):
            span = trailing_span(stamps, t_end, self.seconds, self.sfreq, self.tolerance)
            if span is not None:
                rows.append(i)
                segments.append(data[span])
                spans[i] = stamps[span.start], stamps[span.stop - 1]
        if rows:
            out = _FEATURE_FUNCTIONS[self.kind](np.stack(segments), self.sfreq)
            values[rows] = np.column_stack([out[name] for name in self.names])
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
