"""ECG and EDA features per window with NeuroKit2.

Like :mod:`biosig.features.eeg`, the functions take arrays already cut into
windows, shape ``(n_windows, n_times)``, and use nothing outside each window, so
they serve the live pipeline as well. NeuroKit2 processes one signal at a time,
so both functions loop over windows in Python; at 10-s windows that is about
2-5 ms per ECG window and 5-10 ms per EDA window. The offline pipeline instead
detects the events once per recording (:mod:`biosig.features.peripheral_events`)
and computes window features from them (:mod:`biosig.features.peripheral_windows`);
the live pipeline and training's peripheral spans use causal detectors fed as the
samples arrive (:mod:`biosig.features.peripheral_causal`) with the same window
features. These per-window functions remain the per-window reference (tests,
benchmarks) and check the live peripheral settings at start.

A window that cannot give a feature (NaN or inf in it, a flat signal, too few
beats) gets NaN for that window instead of an exception, so one bad window never
stops a recording or a stream; input that is wrong as a whole (shape, sampling
rate) raises :class:`~biosig.errors.DataError`.
"""

from __future__ import annotations

import math
import warnings

import neurokit2 as nk
import numpy as np

from biosig.errors import DataError

#: Keys of :func:`ecg_window_features`' result.
ECG_FEATURES: tuple[str, ...] = ("hr_bpm", "hrv_meannn_ms", "hrv_sdnn_ms", "hrv_rmssd_ms")

#: Keys of :func:`eda_window_features`' result.
EDA_FEATURES: tuple[str, ...] = ("eda_tonic_us", "scr_count", "scr_amplitude_us")

#: Fewest R-peaks in a window for ECG features: 3 beats give 2 RR intervals,
#: the least for which SDNN and RMSSD are defined.
MIN_BEATS: int = 3

#: An ECG window whose peak-to-peak range is below this (volts) is flat: an R
#: wave is at least about 0.1 mV, so a 10 µV range holds no heartbeat.
ECG_FLAT_PTP_V: float = 1e-5

#: Smallest rise (µS) counted as a skin conductance response. 0.01-0.05 µS is
#: the usual criterion (Boucsein, 2012); 0.05 µS stays above the residual noise
#: of a 3-Hz low-passed signal, which otherwise shows up as many tiny "SCRs".
SCR_MIN_AMPLITUDE_US: float = 0.05

# Filters inside NeuroKit2 (order-5 Butterworth high-pass with zero-phase
# padding) need a few dozen samples, and its R-peak detector smooths over
# 0.75 s; shorter windows are a setup error, not a bad window.
_MIN_SAMPLES = 64
_ECG_MIN_SECONDS = 1.0


def ecg_window_features(ecg: np.ndarray, sfreq: float) -> dict[str, np.ndarray]:
    """Heart rate and time-domain HRV per window of a single-lead ECG.

    Each window is cleaned with ``nk.ecg_clean`` (method ``"neurokit"``:
    0.5-Hz high-pass, 50-Hz power-line smoothing) and its R-peaks found with
    ``nk.ecg_peaks`` (method ``"neurokit"``, no artefact correction: the
    Kubios correction needs longer series than a window). The statistics are
    computed here from the RR intervals between consecutive detected peaks,
    with the same formulas as ``nk.hrv_time`` (``MeanNN``, ``SDNN`` with
    ``ddof=1``, ``RMSSD``) but without its overhead and its warnings on short
    series.

    Parameters
    ----------
    ecg
        ECG in volts, shape ``(n_windows, n_times)``, one lead.
    sfreq
        Sampling frequency in Hz.

    Returns
    -------
    dict of str to numpy.ndarray
        float64 arrays of shape ``(n_windows,)``:

        ``hr_bpm``
            Mean heart rate, ``60000 / hrv_meannn_ms`` (beats per minute).
        ``hrv_meannn_ms``
            Mean RR interval (ms).
        ``hrv_sdnn_ms``
            Standard deviation of the RR intervals, ``ddof=1`` (ms).
        ``hrv_rmssd_ms``
            Root mean square of successive RR differences (ms).

        NaN for a window with NaN or inf, a flat window (range below
        :data:`ECG_FLAT_PTP_V`), or fewer than :data:`MIN_BEATS` R-peaks.

    Raises
    ------
    DataError
        If ``ecg`` is not 2-D, a window is shorter than 1 s or 64 samples,
        or ``sfreq`` is not positive.
    """
    windows, sfreq = _check_windows(ecg, sfreq, "ECG", _ECG_MIN_SECONDS)
    out = {key: np.full(windows.shape[0], np.nan) for key in ECG_FEATURES}
    # NeuroKit2 works on one signal at a time, so this loop is per window.
    for i, window in enumerate(windows):
        if not _usable(window, ECG_FLAT_PTP_V):
            continue
        cleaned = nk.ecg_clean(window, sampling_rate=sfreq, method="neurokit")
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            # A window without any QRS-like slope makes the detector average an
            # empty array; it then returns no peaks, which gives NaN below.
            warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
            _, info = nk.ecg_peaks(cleaned, sampling_rate=sfreq, method="neurokit")
        peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
        if peaks.size < MIN_BEATS:
            continue
        rr_ms = np.diff(peaks) / sfreq * 1000.0
        mean_nn = rr_ms.mean()
        out["hr_bpm"][i] = 60000.0 / mean_nn
        out["hrv_meannn_ms"][i] = mean_nn
        out["hrv_sdnn_ms"][i] = rr_ms.std(ddof=1)
        out["hrv_rmssd_ms"][i] = math.sqrt(np.mean(np.diff(rr_ms) ** 2))
    return out


def eda_window_features(
    eda: np.ndarray, sfreq: float, scr_min_amplitude_us: float = SCR_MIN_AMPLITUDE_US
) -> dict[str, np.ndarray]:
    """Tonic level and skin conductance responses (SCRs) per EDA window.

    Each window, converted to µS (NeuroKit2's thresholds assume µS), is
    low-passed with ``nk.eda_clean`` (method ``"neurokit"``: 3-Hz Butterworth)
    and split with ``nk.eda_phasic`` (method ``"highpass"``: 0.05-Hz
    Butterworth, the fast Acqknowledge method; cvxEDA solves an optimisation
    per window, and median smoothing needs a 4-s kernel, as long as a short
    window). SCRs are the peaks that ``nk.eda_findpeaks`` (method
    ``"neurokit"``) finds in the phasic part,
    which ``nk.eda_peaks`` also uses; its further recovery-time analysis is
    skipped because it takes most of the time and is not used here. An SCR's
    amplitude is, as in ``nk.eda_peaks``, the phasic rise from the preceding
    trough (its onset) to the peak. Instead of NeuroKit2's threshold relative
    to the largest SCR of the signal, which makes a quiet window count noise,
    an SCR counts when its amplitude is at least ``scr_min_amplitude_us``.

    Parameters
    ----------
    eda
        Skin conductance in siemens, shape ``(n_windows, n_times)``.
    sfreq
        Sampling frequency in Hz; above 6 Hz so that the 3-Hz low-pass applies.
    scr_min_amplitude_us
        Smallest SCR amplitude counted, µS.

    Returns
    -------
    dict of str to numpy.ndarray
        float64 arrays of shape ``(n_windows,)``:

        ``eda_tonic_us``
            Mean of the tonic component over the window (µS).
        ``scr_count``
            Number of SCRs whose onset and peak both lie in the window; an
            SCR already rising at the window start or still rising at its end
            is not counted.
        ``scr_amplitude_us``
            Mean amplitude of those SCRs (µS); 0 when there is none.

        All NaN for a window with NaN or inf or an exactly constant signal
        (a disconnected or saturated sensor).

    Raises
    ------
    DataError
        If ``eda`` is not 2-D, a window is shorter than 64 samples, ``sfreq``
        is not above 6 Hz, or ``scr_min_amplitude_us`` is negative.
    """
    windows, sfreq = _check_windows(eda, sfreq, "EDA", 0.0)
    if sfreq <= 6:
        raise DataError(f"EDA needs sfreq above 6 Hz for its 3-Hz low-pass; got {sfreq:g} Hz")
    if not scr_min_amplitude_us >= 0:
        raise DataError(f"scr_min_amplitude_us must be >= 0 µS; got {scr_min_amplitude_us!r}")
    out = {key: np.full(windows.shape[0], np.nan) for key in EDA_FEATURES}
    # NeuroKit2 works on one signal at a time, so this loop is per window.
    for i, window in enumerate(windows):
        if not _usable(window, 0.0):
            continue
        cleaned = nk.eda_clean(window * 1e6, sampling_rate=sfreq, method="neurokit")
        parts = nk.eda_phasic(cleaned, sampling_rate=sfreq, method="highpass")
        phasic = parts["EDA_Phasic"].to_numpy()
        # amplitude_min=None: no relative threshold (and no error on a window
        # without peaks); the absolute one is applied below.
        info = nk.eda_findpeaks(phasic, sampling_rate=sfreq, method="neurokit", amplitude_min=None)
        onsets = np.asarray(info["SCR_Onsets"], dtype=np.float64)
        peaks = np.asarray(info["SCR_Peaks"], dtype=np.int64)
        has_onset = ~np.isnan(onsets)
        amplitudes = phasic[peaks[has_onset]] - phasic[onsets[has_onset].astype(np.int64)]
        amplitudes = amplitudes[amplitudes >= scr_min_amplitude_us]
        out["eda_tonic_us"][i] = parts["EDA_Tonic"].to_numpy().mean()
        out["scr_count"][i] = amplitudes.size
        out["scr_amplitude_us"][i] = amplitudes.mean() if amplitudes.size else 0.0
    return out


def _check_windows(
    signal: np.ndarray, sfreq: float, name: str, min_seconds: float
) -> tuple[np.ndarray, float]:
    """Validate ``(n_windows, n_times)`` input; return it as float64 and ``sfreq`` as float."""
    x = np.asarray(signal)
    if x.ndim != 2:
        raise DataError(f"{name} windows need shape (n_windows, n_times); got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DataError(f"{name} data must be real numbers; got dtype {x.dtype}")
    rate = float(sfreq)
    if not (math.isfinite(rate) and rate > 0):
        raise DataError(f"{name} sfreq must be a positive number of Hz; got {sfreq!r}")
    min_samples = max(_MIN_SAMPLES, math.ceil(min_seconds * rate))
    if x.shape[1] < min_samples:
        raise DataError(
            f"{name} windows of {x.shape[1]} samples ({x.shape[1] / rate:g} s) are too short; "
            f"NeuroKit2's processing needs at least {min_samples} samples here"
        )
    return x.astype(np.float64, copy=False), rate


def _usable(window: np.ndarray, flat_ptp: float) -> bool:
    """True if the window is all finite and spans more than ``flat_ptp``."""
    return bool(np.isfinite(window).all() and np.ptp(window) > flat_ptp)
