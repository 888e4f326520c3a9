"""ECG and EDA features of any windows, from events detected once per recording.

The windows are ``[start, stop)`` in seconds on the recording's clock (0 at
its first sample) and are cut as every window of the project: first sample
``round(start * sfreq)``, ``round((stop - start) * sfreq)`` samples. The
features are computed for all windows at once from cumulative sums over the
events (``np.searchsorted`` over beat and SCR sample indices), without a
Python loop per window, so windows may overlap, be as short as one second,
and come in any order.

Definitions (the names and units of
:data:`~biosig.features.peripheral.ECG_FEATURES` and
:data:`~biosig.features.peripheral.EDA_FEATURES`):

* a window's beats are the R-peaks whose sample lies in it, and its RR
  intervals those between consecutive beats of the window (both beats in it);
* ``hr_bpm`` = ``60000 / hrv_meannn_ms`` and ``hrv_meannn_ms`` (mean RR) come
  from the window's RR intervals when it holds at least 2 beats; a shorter
  window (e.g. a 1-s event-locked one, with 0 or 1 beat) takes the RR
  intervals overlapping it instead, from the last beat before it to the first
  beat after it, so it still has a heart rate; NaN only when no RR interval
  overlaps it (no beat on one side);
* ``hrv_sdnn_ms`` (``ddof=1``) and ``hrv_rmssd_ms`` need at least 3 beats
  (two RR intervals), as ``nk.hrv_time``'s ``SDNN`` and ``RMSSD``;
* ``eda_tonic_us`` is the mean tonic component over the window's samples;
* ``scr_count`` counts the SCRs whose peak lies in the window (an SCR that
  began before the window counts: its onset was seen in the recording) and
  ``scr_amplitude_us`` is their mean amplitude, 0 without any.

A feature that cannot be computed is NaN, and :class:`WindowFeatures` counts
why, per feature (``NAN_*`` reasons), so that a report never shows a silent
NaN (a window with a non-finite sample, a flat signal, too few beats).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biosig.errors import DataError
from biosig.features.peripheral import ECG_FEATURES, ECG_FLAT_PTP_V, EDA_FEATURES
from biosig.features.peripheral_events import BeatEvents, EdaEvents

#: NaN reason: the window holds a NaN or infinite sample.
NAN_NONFINITE = "non-finite samples"
#: NaN reason: the ECG window's range is at most ``ECG_FLAT_PTP_V``.
NAN_FLAT_ECG = "flat ECG"
#: NaN reason: the EDA window is exactly constant (a disconnected or saturated sensor).
NAN_FLAT_EDA = "flat EDA"
#: NaN reason: no RR interval in or overlapping the window (heart rate, mean RR).
NAN_NO_RR_INTERVAL = "no RR interval around the window"
#: NaN reason: fewer than 3 beats, so fewer than 2 RR intervals (SDNN, RMSSD).
NAN_FEWER_THAN_3_BEATS = "fewer than 3 beats"


@dataclass(frozen=True)
class WindowFeatures:
    """Features of a set of windows and why some are NaN.

    Attributes
    ----------
    values
        Feature name -> ``(n_windows,)`` float64.
    nan_reasons
        Feature name -> {reason -> number of windows NaN for it}; a feature
        without NaN maps to an empty dict. Each NaN window is counted once,
        under the first reason that applies (non-finite, flat, too few beats).
    """

    values: dict[str, np.ndarray]
    nan_reasons: dict[str, dict[str, int]]


def ecg_features_from_beats(
    beats: BeatEvents, starts: np.ndarray, stops: np.ndarray, detected: np.ndarray | None = None
) -> WindowFeatures:
    """Heart rate and time-domain HRV of each window ``[start, stop)`` (s) from R-peaks.

    Parameters
    ----------
    beats
        R-peaks of the whole recording (:func:`~biosig.features.peripheral_events.detect_ecg_events`).
    starts, stops
        ``(n_windows,)`` window bounds, s from the recording's first sample.
    detected
        ``(n_beats,)`` non-decreasing index of the sample that confirmed each
        beat (a causal detector's,
        :class:`~biosig.features.peripheral_causal.CausalBeatEvents`): a
        window then uses only the beats confirmed by its own samples or
        earlier ones, as the live pipeline knows them at the window's end.
        None: every beat.

    Returns
    -------
    WindowFeatures
        ``hr_bpm`` (bpm), ``hrv_meannn_ms``, ``hrv_sdnn_ms``, ``hrv_rmssd_ms``
        (ms), defined as in the module docstring.

    Raises
    ------
    DataError
        Bounds of different shapes, a window of no sample, or one outside the recording.
    """
    first, last = _window_samples(starts, stops, beats.sfreq, beats.signal.size, "ECG")
    lo, hi, known = _known_events(beats.peaks, first, last, detected)
    n_beats = hi - lo
    rr = np.diff(beats.peaks) / beats.sfreq * 1000.0
    # Centred RR and successive differences keep the cumulative sums of squares exact enough.
    centre = rr.mean() if rr.size else 0.0
    c_rr = _cumsum0(rr - centre)
    c_rr2 = _cumsum0((rr - centre) ** 2)
    c_dd2 = _cumsum0(np.diff(rr) ** 2)
    # RR intervals of a window: rr[lo : hi - 1]; successive differences: diff(rr)[lo : hi - 2].
    n_rr = np.maximum(n_beats - 1, 0)
    n_dd = np.maximum(n_beats - 2, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_c = _range_sum(c_rr, lo, lo + n_rr) / n_rr
        mean_nn = np.where(n_rr >= 1, mean_c + centre, np.nan)
        # Fewer than 2 beats in the window: the RR intervals overlapping it, from the nearest beat on each side.
        lo_x, hi_x = np.maximum(lo - 1, 0), np.minimum(hi + 1, known)
        padded = np.append(beats.peaks, 0)  # valid indices when there is no beat (those windows stay NaN)
        span = padded[np.maximum(hi_x - 1, 0)] - padded[lo_x]
        around = span / beats.sfreq * 1000.0 / (hi_x - 1 - lo_x)
        mean_nn = np.where((n_beats < 2) & (hi_x - lo_x >= 2), around, mean_nn)
        var = (_range_sum(c_rr2, lo, lo + n_rr) - n_rr * mean_c**2) / (n_rr - 1)
        rmssd = np.sqrt(_range_sum(c_dd2, lo, lo + n_dd) / n_dd)
    values = {
        "hr_bpm": 60000.0 / mean_nn,
        "hrv_meannn_ms": mean_nn,
        "hrv_sdnn_ms": np.where(n_beats >= 3, np.sqrt(np.maximum(var, 0.0)), np.nan),
        "hrv_rmssd_ms": np.where(n_beats >= 3, rmssd, np.nan),
    }
    nonfinite, ptp = _window_checks(beats.signal, first, last)
    flat = ~nonfinite & (ptp <= ECG_FLAT_PTP_V)
    reasons: dict[str, dict[str, int]] = {}
    for name in ECG_FEATURES:
        need = 2 if name in ("hr_bpm", "hrv_meannn_ms") else 3
        few = ~nonfinite & ~flat & np.isnan(values[name])
        few_reason = NAN_NO_RR_INTERVAL if need == 2 else NAN_FEWER_THAN_3_BEATS
        values[name] = np.where(nonfinite | flat, np.nan, values[name])
        reasons[name] = _count({NAN_NONFINITE: nonfinite, NAN_FLAT_ECG: flat, few_reason: few})
    return WindowFeatures({name: values[name] for name in ECG_FEATURES}, reasons)


def eda_features_from_events(
    events: EdaEvents, starts: np.ndarray, stops: np.ndarray, detected: np.ndarray | None = None
) -> WindowFeatures:
    """Tonic level and SCRs of each window ``[start, stop)`` (s) from the recording's EDA events.

    Parameters
    ----------
    events
        SCRs and tonic of the whole recording (:func:`~biosig.features.peripheral_events.detect_eda_events`).
    starts, stops
        ``(n_windows,)`` window bounds, s from the recording's first sample.
    detected
        ``(n_scr,)`` non-decreasing index of the sample that confirmed each SCR
        (:class:`~biosig.features.peripheral_causal.CausalEdaEvents`): a window
        counts only the SCRs confirmed by its own samples or earlier ones.
        None: every SCR.

    Returns
    -------
    WindowFeatures
        ``eda_tonic_us`` (µS), ``scr_count`` (SCR peaks in the window),
        ``scr_amplitude_us`` (their mean amplitude, µS; 0 without any). All
        NaN for a window with a non-finite sample or an exactly constant one.

    Raises
    ------
    DataError
        Bounds of different shapes, a window of no sample, or one outside the recording.
    """
    first, last = _window_samples(starts, stops, events.sfreq, events.signal.size, "EDA")
    c_tonic = _cumsum0(events.tonic_us)
    lo, hi, _ = _known_events(events.peaks, first, last, detected)
    count = (hi - lo).astype(np.float64)
    c_amp = _cumsum0(events.amplitudes_us)
    with np.errstate(invalid="ignore", divide="ignore"):
        amplitude = np.where(count > 0, (c_amp[hi] - c_amp[lo]) / count, 0.0)
    values = {
        "eda_tonic_us": (c_tonic[last] - c_tonic[first]) / (last - first),
        "scr_count": count,
        "scr_amplitude_us": amplitude,
    }
    nonfinite, ptp = _window_checks(events.signal, first, last)
    flat = ~nonfinite & (ptp == 0)
    reasons = {}
    for name in EDA_FEATURES:
        values[name] = np.where(nonfinite | flat, np.nan, values[name])
        reasons[name] = _count({NAN_NONFINITE: nonfinite, NAN_FLAT_EDA: flat})
    return WindowFeatures(values, reasons)


def _window_samples(
    starts: np.ndarray, stops: np.ndarray, sfreq: float, n_times: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last sample ``(n_windows,)`` int64 of each window, checked against the recording."""
    start = np.asarray(starts, dtype=np.float64)
    stop = np.asarray(stops, dtype=np.float64)
    if start.ndim != 1 or start.shape != stop.shape:
        raise DataError(f"{name} window starts and stops need the same shape (n_windows,); got {start.shape}, {stop.shape}")
    if not (np.isfinite(start).all() and np.isfinite(stop).all()):
        raise DataError(f"{name} window bounds must be finite seconds")
    first = np.round(start * sfreq).astype(np.int64)
    last = first + np.round((stop - start) * sfreq).astype(np.int64)
    bad = (last <= first) | (first < 0) | (last > n_times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name} window [{start[i]:.3f}, {stop[i]:.3f}) s holds no sample of the "
            f"{n_times / sfreq:.2f} s recording (or lies outside it)"
        )
    return first, last


def _known_events(
    peaks: np.ndarray, first: np.ndarray, last: np.ndarray, detected: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: the first and one-past-last event with its peak in ``[first, last)``, and the events known.

    Known events are all of them, or with ``detected`` those confirmed before ``last``; ``lo <= hi <= known``.
    """
    lo = np.searchsorted(peaks, first, side="left")
    hi = np.searchsorted(peaks, last, side="left")
    if detected is None:
        return lo, hi, np.full(first.shape, peaks.size)
    known = np.searchsorted(detected, last, side="left")
    hi = np.minimum(hi, known)
    return np.minimum(lo, hi), hi, known


def _window_checks(signal: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per window: whether it holds a non-finite sample, and its peak-to-peak range (NaN-free windows)."""
    c_bad = _cumsum0(~np.isfinite(signal))
    nonfinite = (c_bad[last] - c_bad[first]) > 0
    if first.size == 0:
        return nonfinite, np.zeros(0)
    # reduceat over sorted (first, last) pairs: the even entries are the windows,
    # the odd ones the gaps between them (ignored); a pad makes index n_times valid.
    order = np.argsort(first, kind="stable")
    bounds = np.column_stack([first[order], last[order]]).ravel()
    padded = np.append(np.where(np.isfinite(signal), signal, 0.0), 0.0)
    ptp = np.empty(first.size)
    ptp[order] = np.maximum.reduceat(padded, bounds)[::2] - np.minimum.reduceat(padded, bounds)[::2]
    return nonfinite, ptp


def _cumsum0(x: np.ndarray) -> np.ndarray:
    """Cumulative sum with a leading 0, float64: ``out[j] = x[:j].sum()``."""
    return np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])


def _range_sum(cumsum: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sums ``x[a:b]`` from ``cumsum = _cumsum0(x)``; 0 for an empty range."""
    top = cumsum.size - 1
    return np.where(b > a, cumsum[np.minimum(b, top)] - cumsum[np.minimum(a, top)], 0.0)


def _count(masks: dict[str, np.ndarray]) -> dict[str, int]:
    """Reason -> number of windows in its mask, for the reasons that occur."""
    return {reason: int(mask.sum()) for reason, mask in masks.items() if mask.any()}
