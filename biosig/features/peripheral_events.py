"""ECG R-peaks and EDA responses detected once over a whole recording (NeuroKit2).

The offline feature path detects the events of a recording once, here, and
computes every window's heart rate, HRV and EDA features from the events
around it (:mod:`biosig.features.peripheral_windows`). Compared with running
NeuroKit2 on each window (:mod:`biosig.features.peripheral`, which the live
pipeline still uses), this

* gives a short window a heart rate: a 1-s window holding two beats has one RR
  interval, while a detector run on that second alone sees too little signal;
* detects each beat once, however many windows overlap it;
* sees no window edges: NeuroKit2's filters (the ECG's order-5 0.5-Hz
  high-pass and the EDA's 0.05-Hz high-pass, both zero-phase) and its R-peak
  detector (0.75-s moving average of the QRS slope, 0.3-s minimum delay)
  behave differently in the first and last second or so of a signal, so the
  per-window detection misses or shifts beats there, and splits the EDA into
  tonic and phasic parts relative to the window's own start. Away from the
  edges both find the same beats, within one sample (checked on real
  recordings in ``tests/core/test_features_peripheral_events.py``).

Non-finite samples are filled by linear interpolation before detection (so
that one gap does not stop the recording); windows that contain any of them
get NaN features, with the reason counted.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import neurokit2 as nk
import numpy as np

from biosig.errors import DataError
from biosig.features.peripheral import ECG_FLAT_PTP_V, SCR_MIN_AMPLITUDE_US
from biosig.session import Session

# NeuroKit2's ECG cleaning and R-peak detector need a few dozen samples and
# about a second of signal; a recording shorter than this is a setup error.
_MIN_SAMPLES = 64
_ECG_MIN_SECONDS = 1.0

#: Below this rate NeuroKit2's 3-Hz EDA low-pass is at or above Nyquist and is
#: skipped (an Empatica E4 records EDA at 4 Hz), as ``nk.eda_clean`` does.
EDA_LOWPASS_MIN_SFREQ: float = 6.0


@dataclass(frozen=True)
class BeatEvents:
    """R-peaks of one ECG recording.

    Attributes
    ----------
    peaks
        ``(n_beats,)`` int64 sample indices of the R-peaks, increasing.
    sfreq
        Sampling frequency, Hz.
    signal
        ``(n_times,)`` float64 ECG as given (volts, non-finite samples kept),
        for the per-window flat and non-finite checks.
    """

    peaks: np.ndarray
    sfreq: float
    signal: np.ndarray

    @property
    def times(self) -> np.ndarray:
        """``(n_beats,)`` R-peak times, s from the first sample."""
        return self.peaks / self.sfreq


@dataclass(frozen=True)
class EdaEvents:
    """Skin conductance responses (SCRs) and tonic level of one EDA recording.

    Attributes
    ----------
    onsets, peaks
        ``(n_scr,)`` int64 sample indices of each SCR's onset (the preceding
        trough of the phasic part) and peak.
    amplitudes_us
        ``(n_scr,)`` phasic rise from onset to peak, µS; only SCRs of at least
        the detection's ``scr_min_amplitude_us`` are kept.
    tonic_us
        ``(n_times,)`` tonic component, µS.
    sfreq
        Sampling frequency, Hz.
    signal
        ``(n_times,)`` float64 EDA as given (siemens, non-finite samples kept).
    """

    onsets: np.ndarray
    peaks: np.ndarray
    amplitudes_us: np.ndarray
    tonic_us: np.ndarray
    sfreq: float
    signal: np.ndarray

    @property
    def peak_times(self) -> np.ndarray:
        """``(n_scr,)`` SCR peak times, s from the first sample."""
        return self.peaks / self.sfreq


def detect_ecg_events(ecg: np.ndarray, sfreq: float) -> BeatEvents:
    """R-peaks of a whole single-lead ECG recording.

    The recording is cleaned once with ``nk.ecg_clean`` (method
    ``"neurokit"``) and its R-peaks found once with ``nk.ecg_peaks`` (method
    ``"neurokit"``, no artefact correction), the same steps as
    :func:`~biosig.features.peripheral.ecg_window_features` takes per window.

    Parameters
    ----------
    ecg
        ``(n_times,)`` ECG in volts.
    sfreq
        Sampling frequency, Hz.

    Returns
    -------
    BeatEvents
        No beats for a recording that is flat as a whole (range at most
        :data:`~biosig.features.peripheral.ECG_FLAT_PTP_V`) or has no finite
        sample.

    Raises
    ------
    DataError
        ``ecg`` not 1-D real numbers, ``sfreq`` not positive, or a recording
        shorter than 1 s or 64 samples.
    """
    signal, rate = _check_recording(ecg, sfreq, "ECG", _ECG_MIN_SECONDS)
    filled = _fill_nonfinite(signal)
    peaks = np.zeros(0, dtype=np.int64)
    if filled is not None and np.ptp(filled) > ECG_FLAT_PTP_V:
        cleaned = nk.ecg_clean(filled, sampling_rate=rate, method="neurokit")
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            # A recording without any QRS-like slope makes the detector average
            # an empty array; it then returns no peaks.
            warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
            _, info = nk.ecg_peaks(cleaned, sampling_rate=rate, method="neurokit", correct_artifacts=False)
        peaks = np.unique(np.asarray(info["ECG_R_Peaks"], dtype=np.int64))
    return BeatEvents(peaks=peaks, sfreq=rate, signal=signal)


def detect_eda_events(
    eda: np.ndarray, sfreq: float, scr_min_amplitude_us: float = SCR_MIN_AMPLITUDE_US
) -> EdaEvents:
    """SCRs and tonic level of a whole EDA recording.

    The same steps as :func:`~biosig.features.peripheral.eda_window_features`,
    once over the recording: conversion to µS, ``nk.eda_clean`` (3-Hz
    low-pass; skipped at or below :data:`EDA_LOWPASS_MIN_SFREQ`, as NeuroKit2
    does), ``nk.eda_phasic`` (method ``"highpass"``, 0.05 Hz) and
    ``nk.eda_findpeaks`` (method ``"neurokit"``, no relative threshold) on the
    phasic part. An SCR's amplitude is the phasic rise from its onset to its
    peak; SCRs below ``scr_min_amplitude_us`` or without an onset are dropped.

    Parameters
    ----------
    eda
        ``(n_times,)`` skin conductance in siemens.
    sfreq
        Sampling frequency, Hz.
    scr_min_amplitude_us
        Smallest SCR amplitude kept, µS.

    Returns
    -------
    EdaEvents
        No SCRs and a NaN tonic for a recording without finite samples; no
        SCRs for an exactly constant one.

    Raises
    ------
    DataError
        ``eda`` not 1-D real numbers, ``sfreq`` not positive, a recording
        shorter than 64 samples, or a negative ``scr_min_amplitude_us``.
    """
    signal, rate = _check_recording(eda, sfreq, "EDA", 0.0)
    if not scr_min_amplitude_us >= 0:
        raise DataError(f"scr_min_amplitude_us must be >= 0 µS; got {scr_min_amplitude_us!r}")
    filled = _fill_nonfinite(signal)
    none = np.zeros(0, dtype=np.int64)
    if filled is None:
        return EdaEvents(none, none, np.zeros(0), np.full(signal.size, np.nan), rate, signal)
    us = filled * 1e6
    cleaned = nk.eda_clean(us, sampling_rate=rate, method="neurokit") if rate > EDA_LOWPASS_MIN_SFREQ else us
    parts = nk.eda_phasic(cleaned, sampling_rate=rate, method="highpass")
    phasic = parts["EDA_Phasic"].to_numpy()
    tonic = parts["EDA_Tonic"].to_numpy()
    if np.ptp(filled) == 0:
        return EdaEvents(none, none, np.zeros(0), tonic, rate, signal)
    info = nk.eda_findpeaks(phasic, sampling_rate=rate, method="neurokit", amplitude_min=None)
    onsets = np.asarray(info["SCR_Onsets"], dtype=np.float64)
    peaks = np.asarray(info["SCR_Peaks"], dtype=np.int64)
    keep = ~np.isnan(onsets)
    onsets, peaks = onsets[keep].astype(np.int64), peaks[keep]
    amplitudes = phasic[peaks] - phasic[onsets]
    big = amplitudes >= scr_min_amplitude_us
    return EdaEvents(onsets[big], peaks[big], amplitudes[big], tonic, rate, signal)


def detect_session_events(session: Session) -> tuple[BeatEvents | None, EdaEvents | None]:
    """R-peaks of the session's first ECG lead and its EDA events, each None without that recording."""
    ecg = eda = None
    if session.ecg is not None:
        ecg = detect_ecg_events(session.ecg.get_data(picks=[0])[0], session.ecg.info["sfreq"])
    if session.eda is not None:
        eda = detect_eda_events(session.eda.get_data(picks=[0])[0], session.eda.info["sfreq"])
    return ecg, eda


def _check_recording(signal: np.ndarray, sfreq: float, name: str, min_seconds: float) -> tuple[np.ndarray, float]:
    """Validate a ``(n_times,)`` recording; return it as float64 and ``sfreq`` as float."""
    x = np.asarray(signal)
    if x.ndim != 1:
        raise DataError(f"{name} recording needs shape (n_times,); got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DataError(f"{name} data must be real numbers; got dtype {x.dtype}")
    rate = float(sfreq)
    if not (math.isfinite(rate) and rate > 0):
        raise DataError(f"{name} sfreq must be a positive number of Hz; got {sfreq!r}")
    min_samples = max(_MIN_SAMPLES, math.ceil(min_seconds * rate))
    if x.size < min_samples:
        raise DataError(
            f"{name} recording of {x.size} samples ({x.size / rate:g} s) is too short; "
            f"NeuroKit2's processing needs at least {min_samples} samples"
        )
    return x.astype(np.float64, copy=False), rate


def _fill_nonfinite(x: np.ndarray) -> np.ndarray | None:
    """``x`` with NaN/inf samples linearly interpolated from finite neighbours; None if none is finite."""
    finite = np.isfinite(x)
    if finite.all():
        return x
    if not finite.any():
        return None
    index = np.arange(x.size)
    return np.interp(index, index[finite], x[finite])
