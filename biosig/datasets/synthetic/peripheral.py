"""Synthetic peripheral signals: two ECG leads (heart rate, HRV, ECGSYN beats) and EDA (tonic level, SCRs).

Model in :mod:`biosig.datasets.synthetic`; ECG in volts, EDA in siemens.
"""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import scipy.signal

from biosig.datasets.synthetic.config import (
    HR_BPM_PER_AROUSAL,
    HRV_LN_PER_AROUSAL,
    SCL_FRACTION_PER_AROUSAL,
    SCR_RATE_LN_PER_AROUSAL,
    SubjectParams,
    SyntheticConfig,
)
from biosig.datasets.synthetic.signals import (
    Timeline,
    colored_noise,
    gaussian_spectrum,
    lagged_profile,
    mains_noise,
    renewal_times,
    segment_ids,
    slow_spectrum,
    timeline_samples,
)

_SCR_STRETCH = 2.5
_SCR_REFRACTORY_S = 4.0  # SCR onsets at least this far apart, so each stays a separate peak


# --------------------------------------------------------------------------- ECG


def ecg_signals(
    rng: np.random.Generator, params: SubjectParams, timeline: Timeline, a_seg: np.ndarray, config: SyntheticConfig
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Two ECG leads in volts, (2, n_times), and per-segment true heart rate mean and sd (bpm)."""
    sfreq = config.ecg_sfreq
    seg_ids = segment_ids(timeline, sfreq)
    n_times = seg_ids.size
    n_trials = (len(timeline.starts) - 2) // 2
    gain = params.autonomic_gain
    # Offsets shared by a trial's baseline and stimulus (removed by baseline correction), and
    # stimulus-specific ones unrelated to arousal (orienting, posture), which are not.
    trial_offset = np.concatenate([[0.0], np.repeat(rng.normal(0.0, 1.5, n_trials), 2), [0.0]])
    trial_offset[2 : 2 + 2 * n_trials : 2] += rng.normal(0.0, 4.5, n_trials)
    hr_mean = lagged_profile(
        params.hr_bpm + trial_offset + params.hr_sign * HR_BPM_PER_AROUSAL * gain * a_seg, timeline, sfreq, 3.0
    )
    hrv_sd = lagged_profile(params.hrv_bpm * np.exp(HRV_LN_PER_AROUSAL * gain * a_seg), timeline, sfreq, 3.0)

    def hrv_psd(f: np.ndarray) -> np.ndarray:
        return 0.5 * gaussian_spectrum(0.1, 0.02)(f) + gaussian_spectrum(params.resp_hz, 0.02)(f)

    hr = hr_mean + hrv_sd * colored_noise(rng, 1, n_times, sfreq, hrv_psd)[0]
    hr = np.maximum(hr, 35.0)
    phase = rng.uniform() + np.cumsum(hr) / (60.0 * sfreq)  # beats; R peak at every integer
    since_r, rr = _beat_clock(phase, hr, sfreq)
    templates = [_ecg_template(int(rng.integers(2**31)), ai) for ai in _ECG_WAVES]
    leads = np.stack([g * _place_beats(since_r, rr, tpl) for g, tpl in zip(params.ecg_gain_v, templates)])

    t = np.arange(n_times) / sfreq
    leads += rng.normal(0.0, 8e-6, leads.shape)
    wander = 0.05e-3 * np.sin(2 * np.pi * params.resp_hz * t) + 0.1e-3 * colored_noise(rng, 1, n_times, sfreq, slow_spectrum)
    line = mains_noise(rng, t, 2, (10e-6, 20e-6))
    if config.drifts:
        leads += wander * np.array([[1.0], [0.7]])
    if config.line_noise:
        leads += line
    counts = np.bincount(seg_ids)
    mean = np.bincount(seg_ids, weights=hr) / counts
    sd = np.sqrt(np.maximum(np.bincount(seg_ids, weights=hr**2) / counts - mean**2, 0.0))
    return leads, {"mean": mean, "std": sd}


# ECGSYN wave amplitudes (P, Q, R, S, T) of the two leads: NeuroKit2's defaults, then a lead
# with taller P and T waves and a deeper S wave.
_ECG_WAVES = ((1.2, -5.0, 30.0, -7.5, 0.75), (1.5, -4.0, 26.0, -10.0, 0.9))
_TEMPLATE_SFREQ = 1000


def _ecg_template(seed: int, ai: tuple[float, ...]) -> np.ndarray:
    """One ECGSYN cycle at 60 bpm from R peak to R peak, sampled at 1 kHz, isoelectric line at 0."""
    ecg = nk.ecg_simulate(
        duration=8, sampling_rate=_TEMPLATE_SFREQ, heart_rate=60, heart_rate_std=0,
        method="ecgsyn", random_state=seed, ai=ai,
    )  # fmt: skip
    peaks, _ = scipy.signal.find_peaks(ecg, distance=_TEMPLATE_SFREQ // 2, height=0.5 * ecg.max())
    cycle = np.asarray(ecg[peaks[2] : peaks[3] + 1], dtype=float)
    # Remove the small mismatch between the two R peaks so beats join without a step.
    cycle -= np.linspace(0.0, cycle[-1] - cycle[0], cycle.size)
    return cycle[:-1] - np.median(cycle)


def _beat_clock(phase: np.ndarray, hr_bpm: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: time since the last R peak and the RR interval it belongs to (s).

    R peaks are where the beat phase crosses an integer; the peak before the
    first sample and the one after the last are extrapolated at the edge rate.
    """
    t = np.arange(phase.size) / sfreq
    first = np.floor(phase[0])
    beats = np.arange(first, np.floor(phase[-1]) + 2)
    peaks = np.interp(beats, phase, t)
    peaks[0] = t[0] - (phase[0] - first) * 60.0 / hr_bpm[0]
    peaks[-1] = t[-1] + (beats[-1] - phase[-1]) * 60.0 / hr_bpm[-1]
    beat = (np.floor(phase) - first).astype(int)
    return t - peaks[beat], np.diff(peaks)[beat]


def _place_beats(since_r: np.ndarray, rr: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Beat waveform at every sample: QRS at fixed width, the rest stretched to the RR interval.

    Per-beat stretching of the P and T waves is what ECGSYN does too (its
    angular velocity is 2 pi / RR).
    """
    qrs = 0.06  # s kept unstretched after and before each R peak
    period = template.size / _TEMPLATE_SFREQ
    to_next = rr - since_r
    middle = qrs + (since_r - qrs) * (period - 2 * qrs) / (rr - 2 * qrs)
    u = np.where(since_r < qrs, since_r, np.where(to_next < qrs, period - to_next, middle))
    grid = np.arange(template.size + 1) / _TEMPLATE_SFREQ
    return np.interp(u, grid, np.append(template, template[0]))


# --------------------------------------------------------------------------- EDA


def eda_signal(
    rng: np.random.Generator, params: SubjectParams, timeline: Timeline, a_seg: np.ndarray, config: SyntheticConfig
) -> tuple[np.ndarray, np.ndarray]:
    """EDA in siemens, (1, n_times), and the SCR onset count of every segment."""
    sfreq = config.eda_sfreq
    n_times = timeline_samples(timeline, sfreq)
    gain = params.autonomic_gain
    tonic = lagged_profile(params.scl_us * (1.0 + SCL_FRACTION_PER_AROUSAL * gain * a_seg), timeline, sfreq, 8.0)

    rates = params.scr_rate_per_min * np.exp(SCR_RATE_LN_PER_AROUSAL * gain * a_seg)
    per_segment, last = [], -np.inf
    for start, end, rate in zip(timeline.starts, timeline.ends, rates):  # ~2 n_trials segments
        # The refractory period carries over a segment boundary, so SCRs there stay separate too.
        per_segment.append(renewal_times(rng, max(start, last + _SCR_REFRACTORY_S), end, rate, _SCR_REFRACTORY_S))
        last = per_segment[-1][-1] if per_segment[-1].size else last
    counts = np.array([len(x) for x in per_segment])
    onsets = np.concatenate(per_segment)
    seg_of_onset = np.repeat(np.arange(len(per_segment)), counts)
    amplitudes = params.scr_amp_us * np.exp(rng.normal(0.0, 0.4, onsets.size)) * (1 + 0.25 * a_seg[seg_of_onset])
    kernels = [_scr_kernel(int(rng.integers(2**31)), sfreq) for _ in range(3)]
    which = rng.integers(len(kernels), size=onsets.size)
    phasic = np.zeros(n_times)
    for k, kernel in enumerate(kernels):
        train = np.zeros(n_times)
        np.add.at(train, np.rint(onsets[which == k] * sfreq).astype(int), amplitudes[which == k])
        phasic += scipy.signal.fftconvolve(train, kernel)[:n_times]

    t = np.arange(n_times) / sfreq
    wander = 0.05 * params.scl_us * colored_noise(rng, 1, n_times, sfreq, _very_slow)[0]
    noise = rng.normal(0.0, 0.002, n_times)
    if config.drifts:
        tonic = tonic * (1.0 - 0.15 * t / timeline.duration) + wander
    eda_us = np.maximum(tonic + phasic + noise, 0.05)
    return eda_us[None, :] * 1e-6, counts


def _very_slow(f: np.ndarray) -> np.ndarray:
    """1/f^2 spectrum tapered above ~0.05 Hz: the tonic level's wander."""
    return np.exp(-((f / 0.05) ** 4)) / (f**2 + 0.001**2)


def _scr_kernel(seed: int, sfreq: float) -> np.ndarray:
    """NeuroKit2's SCR shape (onset at 0, peak 1 µS), slowed down, at ``sfreq``.

    NeuroKit2's SCR peaks 0.6-1.3 s after onset and is half recovered ~1.5 s
    later, faster than typical SCRs (rise 1-3 s, half recovery 2-10 s);
    stretching it ``_SCR_STRETCH`` times in time brings it into that range.
    """
    fine = nk.eda_simulate(duration=9, sampling_rate=1000, scr_number=1, drift=0.0, noise=0.0, random_state=seed)
    shape = np.clip(np.asarray(fine) - fine[-1], 0.0, None)
    fine_times = _SCR_STRETCH * np.arange(shape.size) / 1000.0
    return np.interp(np.arange(int(fine_times[-1] * sfreq)) / sfreq, fine_times, shape)
