"""What the online pipeline returns: per-window results, per-call steps and run counters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from streaming.buffer import Event
from streaming.model_io import LIVE_TARGETS


@dataclass
class PipelineStats:
    """Counters of one pipeline run (all since the start)."""

    samples: int = 0
    chunks: int = 0
    windows: int = 0
    predictions: int = 0
    low_quality_windows: int = 0
    interpolated_windows: int = 0
    skipped_windows: int = 0
    segments: int = 0
    gaps: int = 0
    clock_jumps: int = 0
    duplicate_stamps: int = 0
    out_of_order_stamps: int = 0
    invalid_samples: int = 0
    filter_resets: int = 0
    compute_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain mapping."""
        return asdict(self)


@dataclass(frozen=True)
class WindowResult:
    """One window of the live pipeline and its prediction.

    Attributes
    ----------
    index
        Window number since the pipeline started (over all segments).
    segment
        Continuous-data segment the window lies in (a discontinuity starts a new one).
    t_first, t_last
        LSL stamps of the window's first and last samples, s.
    values
        ``{"valence", "arousal", "valence_confidence", "arousal_confidence"}``:
        expected rating and largest class probability (classifiers), or the
        predicted rating and NaN (regression models give no confidence); NaN
        when the window is of low quality or no model predicts the target.
    quality
        Fraction of good channels in [0, 1] (0 during filter warm-up).
    reasons
        Why channels (or the window) are bad, e.g. ``("flat: O2",)``; bad
        channels are named here even when they were interpolated.
    predicted
        Whether the window's quality reached ``min_quality`` so the models ran.
    features
        ``band_power`` (n_channels, n_bands) V², ``de`` (n_channels, n_bands)
        nats, ``faa`` (n_pairs,) when the asymmetry channels are present; for
        each peripheral stream, ``ecg`` (4,) and/or ``eda`` (3,) in the order of
        :data:`~streaming.model_io.PERIPHERAL_FEATURES` (units of
        :mod:`biosig.features.peripheral`: bpm, ms, µS, counts), NaN when the
        span is unusable, and ``ecg_span``/``eda_span`` (2,): LSL stamps of the
        first and last samples used, s (NaN when none).
    signal
        The window the models see before normalisation ``(n_channels,
        n_times)`` in volts (filtered, resampled, bad channels interpolated,
        re-referenced, ICA-cleaned) when the pipeline keeps signals (tests,
        diagnostics), else None.
    channel_quality
        Per channel ``(n_channels,)``, model order: 1 for a channel good in the
        window, 0 for one bad in it or persistently bad (interpolated when the
        window is predicted), NaN while the filters warm up (not assessed);
        what the ``NAME-quality`` stream publishes. None when not computed.
    """

    index: int
    segment: int
    t_first: float
    t_last: float
    values: dict[str, float]
    quality: float
    reasons: tuple[str, ...] = ()
    features: dict[str, np.ndarray] = field(default_factory=dict)
    predicted: bool = False
    signal: np.ndarray | None = None
    channel_quality: np.ndarray | None = None


@dataclass
class Step:
    """What one call of :meth:`~streaming.online.OnlinePipeline.process` produced."""

    windows: list[WindowResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def value_names() -> tuple[str, ...]:
    """Keys of :attr:`WindowResult.values`: each live target and its confidence."""
    return (*LIVE_TARGETS, *(f"{t}_confidence" for t in LIVE_TARGETS))
