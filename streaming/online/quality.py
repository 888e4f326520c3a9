"""Signal quality of live windows: invalid, flat and out-of-range channels, and runs of bad windows.

A channel is bad in a window when one of its raw samples in the window's span
(at the stream's rate) is non-finite or out of range (``|x| > raw_limit``),
when it is flat (raw peak-to-peak below ``flat_ptp``) or when its filtered
amplitude, before re-referencing (so that one channel's artefact does not
reach the others through an average reference), exceeds ``max_abs``. A
window's quality is the fraction of good channels, 0 while the filters warm
up; the first window of a run without a prediction raises a ``bad_window``
event, the first one after it ``quality_restored``.

**Channel state across windows** (:class:`ChannelStates`, hysteresis): a
channel bad in ``bad_after`` consecutive windows (past the warm-up) becomes
*persistently bad* (one ``channel_bad`` event naming it) until it is good in
``good_after`` consecutive windows (one ``channel_restored`` event). A
persistently bad channel that counts as usable (below) is interpolated in every window that gets a
prediction, as offline preprocessing flags a bad channel once and
interpolates it, instead of the prediction flickering with the channel.

**The prediction gate** (:func:`gate_quality`): a window gets a prediction
when its gate reaches ``min_quality``; the gate is the fraction of channels
that are good in the window *or* persistently bad and interpolated, which
needs an interpolator (a montage with every channel's position; not
``--no-interpolate``) and at most ``max_interpolated`` of the channels
persistently bad; otherwise persistently bad channels count as bad. A
channel bad in this window but not (yet) persistently bad always counts as
bad. The published ``quality`` stays the fraction of channels good in the
window, so a flat channel shows there even while predictions go on.
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
        predicts where the offline pipeline would still interpolate. The gate
        counts persistently bad, interpolated channels as good (module docstring).
    bad_after
        Consecutive bad windows (>= 1) after which a channel is persistently bad.
    good_after
        Consecutive good windows (>= 1) after which a persistently bad channel is good again.
    max_interpolated
        Largest fraction of channels that may be persistently bad and still
        count as good (interpolated) in the gate; beyond it (or with 0) they
        count as bad. 0.25 is the offline ``preprocess.bad_channels.max_fraction``.
    """

    raw_limit: float = 0.1
    flat_ptp: float = 1e-7
    max_abs: float = 500e-6
    min_quality: float = 1.0
    bad_after: int = 3
    good_after: int = 5
    max_interpolated: float = 0.25


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


class ChannelStates:
    """Persistently bad channels: hysteresis over consecutive windows (module docstring).

    Parameters
    ----------
    channels
        Channel names, in the pipeline's order (named in the events).
    bad_after, good_after
        Consecutive bad (good) windows that make a channel persistently bad (good again).
    """

    def __init__(self, channels: Sequence[str], bad_after: int, good_after: int) -> None:
        self.channels = tuple(channels)
        self.bad_after = max(1, int(bad_after))
        self.good_after = max(1, int(good_after))
        self.persistent = np.zeros(len(self.channels), dtype=bool)
        self._run = np.zeros(len(self.channels), dtype=int)  # consecutive windows against the current state

    def update(self, bad: np.ndarray, reasons: Sequence[str], stamp: float, interpolated: bool) -> list[Event]:
        """Take one window's bad channels ``(n_channels,)``; the ``channel_bad``/``channel_restored`` events.

        ``reasons`` are the window's (:func:`window_quality`), ``stamp`` the
        events' LSL time (s), ``interpolated`` whether a channel that turns
        persistently bad will be interpolated (said in its event).
        """
        against = bad != self.persistent
        self._run = np.where(against, self._run + 1, 0)
        flips = np.flatnonzero(against & (self._run >= np.where(self.persistent, self.good_after, self.bad_after)))
        events = []
        for i in flips:
            name = self.channels[i]
            self.persistent[i] = not self.persistent[i]
            self._run[i] = 0
            if self.persistent[i]:
                why = [label for label, _, names in (r.partition(": ") for r in reasons) if name in names.split(",")]
                detail = {"channel": name, "reasons": why, "interpolated": interpolated}
                events.append(Event("channel_bad", stamp, detail))
            else:
                events.append(Event("channel_restored", stamp, {"channel": name}))
        return events


def gate_quality(
    quality: np.ndarray, bad: np.ndarray, persistent: np.ndarray, interpolates: bool, config: QualityConfig
) -> tuple[np.ndarray, np.ndarray]:
    """What the ``min_quality`` gate compares, and the channels to interpolate where it passes.

    ``quality`` ``(n_windows,)`` is :func:`window_quality`'s (0 in warm-up
    windows, which stay 0); ``bad`` and ``persistent`` ``(n_windows,
    n_channels)`` are each window's bad and persistently bad channels.
    Persistently bad channels count as usable (interpolated) when
    ``interpolates`` and they are at most ``config.max_interpolated`` of the
    channels (module docstring). Returns the fraction of usable channels
    ``(n_windows,)`` and the channels to interpolate ``(n_windows,
    n_channels)``: the bad ones and the persistently bad ones that count as usable.
    """
    allowed = interpolates & (persistent.mean(axis=1) <= config.max_interpolated) & (config.max_interpolated > 0)
    counted = persistent & allowed[:, None]
    usable = 1.0 - (bad & ~counted).mean(axis=1)
    return np.where(quality > 0, usable, quality), bad | counted


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
