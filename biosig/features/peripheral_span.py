"""ECG and EDA features of one span from its events: the live pipeline's per-window step.

:func:`ecg_span_features` and :func:`eda_span_features` give, for a single
span ``[first, last)`` (sample indices), the features that
:func:`~biosig.features.peripheral_windows.ecg_features_from_beats` and
:func:`~biosig.features.peripheral_windows.eda_features_from_events` give for
that window with ``detected`` (the same definitions: see
:mod:`biosig.features.peripheral_windows`), without the per-recording
cumulative sums and NaN-reason counts those functions build for many windows
at once. A live window (one span every hop, a few beats and SCRs) then costs a
handful of small array operations. The values agree with the many-window
functions up to floating-point rounding (sums over the span's few RR
intervals instead of differences of cumulative sums: relative differences
below 1e-13 measured on real and synthetic recordings).
"""

from __future__ import annotations

import math

import numpy as np

from biosig.features.peripheral import ECG_FLAT_PTP_V


def _known_range(peaks: np.ndarray, detected: np.ndarray, first: int, last: int) -> tuple[int, int, int]:
    """First and one-past-last event with its peak in ``[first, last)`` and confirmed before ``last``; events known."""
    lo = int(peaks.searchsorted(first, side="left"))
    hi = int(peaks.searchsorted(last, side="left"))
    known = int(detected.searchsorted(last, side="left"))
    hi = min(hi, known)
    return min(lo, hi), hi, known


def ecg_span_features(
    peaks: np.ndarray, detected: np.ndarray, signal: np.ndarray, first: int, sfreq: float
) -> np.ndarray:
    """Heart rate and time-domain HRV of one span from R-peaks confirmed causally.

    Parameters
    ----------
    peaks, detected
        ``(n_beats,)`` int64 R-peak indices (increasing) and the indices of the
        samples that confirmed them (non-decreasing), on the same sample axis
        as ``first``; beats confirmed at or after the span's end are not used.
    signal
        ``(n,)`` the span's ECG samples, V: samples ``first`` to ``first + n``.
    first
        Index of the span's first sample.
    sfreq
        Sampling frequency, Hz.

    Returns
    -------
    numpy.ndarray
        ``(4,)`` float64 in the order of :data:`~biosig.features.peripheral.ECG_FEATURES`:
        ``hr_bpm`` (bpm), ``hrv_meannn_ms``, ``hrv_sdnn_ms``, ``hrv_rmssd_ms`` (ms);
        all NaN for a span with a non-finite sample or a range of at most
        :data:`~biosig.features.peripheral.ECG_FLAT_PTP_V`.
    """
    out = np.full(4, np.nan)
    low, high = signal.min(), signal.max()  # NaN when a sample is NaN
    if not (math.isfinite(low) and math.isfinite(high)) or high - low <= ECG_FLAT_PTP_V:
        return out
    lo, hi, known = _known_range(peaks, detected, first, first + signal.size)
    if hi - lo >= 2:
        rr = np.diff(peaks[lo:hi]) / sfreq * 1000.0
        mean_nn = float(rr.mean())
        if rr.size >= 2:
            out[2] = float(rr.std(ddof=1))
            out[3] = math.sqrt(float(np.mean(np.diff(rr) ** 2)))
    else:
        # Fewer than 2 beats in the span: the RR intervals overlapping it, from the nearest beat on each side.
        lo_x, hi_x = max(lo - 1, 0), min(hi + 1, known)
        if hi_x - lo_x < 2:
            return out
        mean_nn = float(peaks[hi_x - 1] - peaks[lo_x]) / sfreq * 1000.0 / (hi_x - 1 - lo_x)
    out[0], out[1] = 60000.0 / mean_nn, mean_nn
    return out


def eda_span_features(
    peaks: np.ndarray, detected: np.ndarray, amplitudes_us: np.ndarray, signal: np.ndarray, tonic_us: np.ndarray,
    first: int,
) -> np.ndarray:  # fmt: skip
    """Tonic level and SCRs of one span from SCRs confirmed causally.

    Parameters
    ----------
    peaks, detected, amplitudes_us
        ``(n_scr,)`` SCR peak indices (increasing), the indices of the samples
        that confirmed them (non-decreasing), on the same sample axis as
        ``first``, and their amplitudes, µS.
    signal, tonic_us
        ``(n,)`` the span's EDA samples (S) and tonic level (µS): samples
        ``first`` to ``first + n``.
    first
        Index of the span's first sample.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` float64 in the order of :data:`~biosig.features.peripheral.EDA_FEATURES`:
        ``eda_tonic_us`` (µS), ``scr_count``, ``scr_amplitude_us`` (µS; 0
        without any SCR); all NaN for a span with a non-finite sample or an
        exactly constant one.
    """
    low, high = signal.min(), signal.max()
    if not (math.isfinite(low) and math.isfinite(high)) or high == low:
        return np.full(3, np.nan)
    lo, hi, _ = _known_range(peaks, detected, first, first + signal.size)
    amplitude = float(amplitudes_us[lo:hi].mean()) if hi > lo else 0.0
    return np.array([float(tonic_us.mean()), float(hi - lo), amplitude])
