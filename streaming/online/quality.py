"""Signal quality of live windows: invalid, flat and out-of-range channels, and runs of bad windows.

A channel is bad in a window when one of its raw samples in the window's span
(at the stream's rate) is non-finite or out of range (``|x| > raw_limit``),
when it is flat (raw peak-to-peak below ``flat_ptp``) or when its filtered
amplitude, before re-referencing (so that one channel's artefact does not
reach the others through an average reference), exceeds ``max_abs``. A
window's quality is the fraction of good channels, 0 while the filters warm
up; the first window of a run below ``min_quality`` raises a ``bad_window``
event, the first one after it ``quality_restored``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streaming.buffer import Event
from streaming.online.results import WindowResult


@dataclass(frozen=True)
class QualityConfig:
    """Signal-quality thresholds (SI units) and the smallest quality that still gets a prediction.

    Attributes
    ----------
    raw_limit
        A raw sample with ``|x|`` above this (V) is invalid, like NaN/inf (an
        amplifier out of range, a corrupt packet); 0.1 V is above any EEG
        amplifier's DC offset.
    flat_ptp
        A channel whose raw peak-to-peak in the window is below this (V) is flat.
    max_abs
        A channel whose filtered amplitude in the window, before
        re-referencing, exceeds this (V) is an artefact (electrode pop, movement).
    min_quality
        Windows with a smaller fraction of good channels get NaN predictions;
        in the others, bad channels are interpolated (when the pipeline
        interpolates). 1 - ``preprocess.bad_channels.max_fraction`` (0.75)
        predicts where the offline pipeline would still interpolate.
    """

    raw_limit: float = 0.1
    flat_ptp: float = 1e-7
    max_abs: float = 500e-6
    min_quality: float = 1.0


def raw_stats(spans: Sequence[tuple[np.ndarray, np.ndarray]], n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per window and channel ``(n_windows, n_channels)``: raw peak-to-peak (V) and whether a sample was invalid.

    ``spans`` are each window's raw samples ``(n_samples, n_channels)`` in
    volts and their invalid flags of the same shape
    (:meth:`~streaming.online.dsp.StreamDSP.raw_span`).
    """
    ptp = np.empty((len(spans), n_channels))
    invalid = np.empty((len(spans), n_channels), dtype=bool)
    for w, (raw, flags) in enumerate(spans):
        invalid[w] = flags.any(axis=0)
        if invalid[w].any():
            ptp[w] = np.where(flags, -np.inf, raw).max(axis=0) - np.where(flags, np.inf, raw).min(axis=0)
        else:
            ptp[w] = raw.max(axis=0) - raw.min(axis=0)
    return ptp, invalid


def window_quality(
    signals: np.ndarray,
    ptp: np.ndarray,
    invalid: np.ndarray,
    starts: Sequence[int],
    warmup: int,
    channels: Sequence[str],
    config: QualityConfig,
) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
    """Fraction of good channels per window, the reasons, and the bad channels ``(n_windows, n_channels)``.

    ``signals`` (filtered, not re-referenced) are ``(n_windows, n_channels,
    n_times)`` in volts; ``ptp`` and ``invalid`` come from :func:`raw_stats`;
    ``starts`` are the windows' first samples within their segment (model
    rate), those before ``warmup`` get quality 0; ``channels`` names the
    channels in the reasons.
    """
    flat = ~invalid & (ptp < config.flat_ptp)
    huge = ~invalid & (np.abs(signals).max(axis=2) > config.max_abs)
    bad = invalid | flat | huge
    quality = 1.0 - bad.mean(axis=1)
    reasons: list[tuple[str, ...]] = []
    for w, start in enumerate(starts):
        why = []
        if start < warmup:
            quality[w] = 0.0
            why.append("filter warm-up")
        for label, mask in (("invalid samples", invalid[w]), ("flat", flat[w]), ("amplitude", huge[w])):
            if mask.any():
                why.append(f"{label}: " + ",".join(channels[i] for i in np.flatnonzero(mask)))
        reasons.append(tuple(why))
    return quality, reasons, bad


class QualityRuns:
    """The events at the edges of runs of windows that got no prediction (over all segments)."""

    def __init__(self) -> None:
        self.low = False

    def event(self, result: WindowResult) -> Event | None:
        """``bad_window`` for the first window of a low run, ``quality_restored`` for the first after it, else None."""
        if result.predicted:
            if self.low:
                self.low = False
                return Event("quality_restored", result.t_last, {"quality": result.quality})
        elif not self.low:
            self.low = True
            return Event("bad_window", result.t_last, {"quality": result.quality, "reasons": list(result.reasons)})
        return None
