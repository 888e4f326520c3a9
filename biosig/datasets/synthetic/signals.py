"""Shared signal helpers of the synthetic cohort: the trial timeline, lagged state profiles, coloured noise.

Used by :mod:`biosig.datasets.synthetic.eeg` and
:mod:`biosig.datasets.synthetic.peripheral`; times in s, rates in Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from biosig.datasets.synthetic.config import LINE_FREQ

@dataclass(frozen=True)
class Timeline:
    """Consecutive segments: rest, (baseline, stimulus) x n_trials, rest."""

    starts: np.ndarray  # (n_segments,) s
    ends: np.ndarray  # (n_segments,) s
    duration: float  # s, whole seconds

    def baseline(self, trial: int) -> int:
        """Segment index of a trial's baseline (trial 0-based)."""
        return 1 + 2 * trial

    def stimulus(self, trial: int) -> int:
        """Segment index of a trial's stimulus (trial 0-based)."""
        return 2 + 2 * trial


# --------------------------------------------------------------------------- signal helpers


def timeline_samples(timeline: Timeline, sfreq: float) -> int:
    """Samples of the whole session at ``sfreq`` Hz."""
    return int(round(timeline.duration * sfreq))


def segment_ids(timeline: Timeline, sfreq: float) -> np.ndarray:
    """Segment index of every sample, shape (n_times,)."""
    t = np.arange(timeline_samples(timeline, sfreq)) / sfreq
    return np.searchsorted(timeline.starts, t, side="right") - 1


def lagged_profile(values: np.ndarray, timeline: Timeline, sfreq: float, lag_s: float) -> np.ndarray:
    """Per-segment ``values`` (..., n_segments) as a signal that follows them with a first-order lag.

    The lag stands for the physiological response time: after a step the
    signal has covered 63 % of it within ``lag_s`` seconds. Computed in closed
    form per segment (exponential approach from the level reached at its
    start). Returns shape (..., n_times) at ``sfreq``.
    """
    seg_ids = segment_ids(timeline, sfreq)
    since_start = np.arange(seg_ids.size) / sfreq - timeline.starts[seg_ids]
    carry = np.exp(-(timeline.ends - timeline.starts) / lag_s)
    start_level = np.empty_like(values)
    start_level[..., 0] = values[..., 0]
    for k in range(1, values.shape[-1]):  # a loop over ~2 n_trials segments, not samples
        start_level[..., k] = values[..., k - 1] + (start_level[..., k - 1] - values[..., k - 1]) * carry[k - 1]
    decay = np.exp(-since_start / lag_s).astype(values.dtype)
    return values[..., seg_ids] + (start_level - values)[..., seg_ids] * decay


def colored_noise(rng: np.random.Generator, n_series: int, n_times: int, sfreq: float, psd) -> np.ndarray:
    """Gaussian noise with power spectrum shape ``psd(freqs)``, unit sd, shape (n_series, n_times).

    Single precision: the spectra are the bulk of the generation time, and
    float32 is ample for noise that is scaled to µV afterwards.
    """
    n_fft = scipy.fft.next_fast_len(n_times, real=True)
    freqs = scipy.fft.rfftfreq(n_fft, 1.0 / sfreq)
    weight = np.sqrt(psd(freqs)).astype(np.float32)
    weight[0] = 0.0
    shape = (n_series, freqs.size)
    spectrum = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
    spectrum *= weight
    x = scipy.fft.irfft(spectrum, n_fft, axis=-1, workers=-1)[:, :n_times]
    # Expected variance (not the realised one, so slow processes keep their natural spread): each
    # bin adds 4 w^2 / n^2, except an even-length Nyquist bin, whose imaginary part irfft drops.
    power = weight.astype(float) ** 2
    expected_var = (4.0 * power[1:].sum() - 3.0 * power[-1] * (n_fft % 2 == 0)) / n_fft**2
    return x / np.float32(np.sqrt(expected_var))


def slow_spectrum(f: np.ndarray) -> np.ndarray:
    """1/f^2 spectrum tapered above ~0.3 Hz: electrode drifts and baseline wander."""
    return np.exp(-((f / 0.3) ** 4)) / (f**2 + 0.01**2)


def gaussian_spectrum(center: float, width: float):
    """Gaussian spectral peak at ``center`` Hz, sd ``width`` Hz, as a function of frequency."""
    return lambda f: np.exp(-0.5 * ((f - center) / width) ** 2)


def renewal_times(rng: np.random.Generator, start: float, end: float, rate_per_min: float, refractory: float) -> np.ndarray:
    """Event times in [start, end): intervals of ``refractory`` plus an exponential, mean 60/rate s."""
    mean_interval = 60.0 / rate_per_min
    n_max = int(np.ceil((end - start) / refractory)) + 1
    gaps = refractory + rng.exponential(max(mean_interval - refractory, 1e-3), n_max)
    gaps[0] = rng.uniform(0.0, mean_interval)  # the process is already running when the segment starts
    times = start + np.cumsum(gaps)
    return times[times < end]



def mains_noise(rng: np.random.Generator, t: np.ndarray, n_ch: int, amp_range: tuple[float, float]) -> np.ndarray:
    """Mains interference, (n_ch, n_times): shared phase, per-channel amplitude, slow amplitude swing."""
    amp = rng.uniform(*amp_range, n_ch)
    phase = rng.uniform(0.0, 2 * np.pi) + rng.normal(0.0, 0.1, n_ch)
    swing = 1.0 + 0.2 * np.sin(2 * np.pi * 0.02 * t + rng.uniform(0.0, 2 * np.pi))
    carrier = 2 * np.pi * LINE_FREQ * t
    # sin(wt + phase) expanded, so only two sinusoids are evaluated whatever the channel count.
    return np.outer(amp * np.cos(phase), swing * np.sin(carrier)) + np.outer(
        amp * np.sin(phase), swing * np.cos(carrier)
    )
