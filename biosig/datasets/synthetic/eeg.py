"""Synthetic EEG: state-modulated band processes over the Emotiv montage, plus its artefacts.

Line noise, blinks, slow drifts and a bad channel, each from its own random
stream (model in :mod:`biosig.datasets.synthetic`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from biosig.datasets.synthetic.config import (
    ALPHA_AROUSAL_LN,
    BETA_AROUSAL_LN,
    EMOTIV_CHANNELS,
    FAA_LN,
    GAMMA_AROUSAL_LN,
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
    slow_spectrum,
    timeline_samples,
)
from biosig.montage import standard_montage

# --------------------------------------------------------------------------- EEG

# Regions of EMOTIV_CHANNELS, in order: AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4.
_REGION = ("AF", "F7", "F", "FC", "T", "P", "O", "O", "P", "T", "FC", "F", "F7", "AF")
_RIGHT = np.array([ch[-1] in "2468" for ch in EMOTIV_CHANNELS])

BANDS = ("background", "theta", "alpha", "beta", "gamma")
# Band: (amplitude sd in µV per region, before channel gains).
_BAND_AMPLITUDE_UV = {
    "background": {"AF": 9.0, "F": 9.0, "F7": 9.0, "FC": 8.0, "T": 8.0, "P": 8.0, "O": 9.0},
    "theta": {"AF": 3.0, "F": 3.5, "F7": 2.5, "FC": 3.0, "T": 2.0, "P": 2.0, "O": 2.0},
    "alpha": {"AF": 4.0, "F": 4.5, "F7": 3.5, "FC": 4.5, "T": 4.5, "P": 8.0, "O": 10.0},
    "beta": {"AF": 2.5, "F": 3.0, "F7": 3.0, "FC": 3.0, "T": 3.0, "P": 2.5, "O": 2.5},
    "gamma": {"AF": 1.0, "F": 1.0, "F7": 1.5, "FC": 1.0, "T": 1.5, "P": 0.8, "O": 0.8},
}
# Weight of frontal alpha asymmetry (sign: right +, left -) and of arousal's alpha suppression.
_FAA_WEIGHT = {"AF": 1.0, "F": 1.0, "F7": 0.6, "FC": 0.6}
_ALPHA_AROUSAL_WEIGHT = {"AF": 0.4, "F": 0.4, "F7": 0.4, "FC": 0.4, "T": 0.6, "P": 1.0, "O": 1.0}
_BLINK_WEIGHT = {"AF": 1.0, "F7": 0.55, "F": 0.45, "FC": 0.2, "T": 0.08, "P": 0.02, "O": 0.02}


def _by_region(table: dict[str, float]) -> np.ndarray:
    return np.array([table.get(region, 0.0) for region in _REGION])


def effect_patterns() -> dict[tuple[str, int], np.ndarray]:
    """Designed effects: ln power per unit of v (key ``(band, 0)``) or a (``(band, 1)``), per channel."""
    return {
        ("alpha", 0): FAA_LN * _by_region(_FAA_WEIGHT) * np.where(_RIGHT, 0.5, -0.5),
        ("alpha", 1): ALPHA_AROUSAL_LN * _by_region(_ALPHA_AROUSAL_WEIGHT),
        ("beta", 1): np.full(len(EMOTIV_CHANNELS), BETA_AROUSAL_LN),
        ("gamma", 1): np.full(len(EMOTIV_CHANNELS), GAMMA_AROUSAL_LN),
    }


@lru_cache(maxsize=1)
def spatial_mixing() -> np.ndarray:
    """(14, 14) Gaussian blur over scalp distance (3 cm), rows of unit norm so variance is kept."""
    pos = standard_montage().get_positions()["ch_pos"]
    xyz = np.array([pos[ch] for ch in EMOTIV_CHANNELS])
    dist = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    mixing = np.exp(-0.5 * (dist / 0.03) ** 2)
    return mixing / np.linalg.norm(mixing, axis=1, keepdims=True)


def eeg_signals(
    rngs: dict[str, np.random.Generator],
    params: SubjectParams,
    timeline: Timeline,
    v_seg: np.ndarray,
    a_seg: np.ndarray,
    config: SyntheticConfig,
) -> tuple[np.ndarray, dict]:
    """EEG in volts, shape (14, n_times), and the artefact ground truth."""
    sfreq = config.eeg_sfreq
    data = _neural_eeg(rngs["eeg"], params, timeline, v_seg, a_seg, sfreq)
    data *= params.channel_gain[:, None]
    t = np.arange(data.shape[1]) / sfreq
    truth: dict = {"blink_onsets_s": [], "bad_channels": [], "bad_channel_kinds": {}}
    # Each artefact draws from its own stream, so switching one off leaves the others unchanged.
    if config.line_noise:
        data += mains_noise(rngs["line"], t, len(EMOTIV_CHANNELS), (1e-6, 4e-6))
    if config.blinks:
        blinks, onsets = _blinks(rngs["blinks"], timeline.duration, sfreq, data.shape[1])
        data += blinks
        truth["blink_onsets_s"] = onsets.tolist()
    if config.drifts:
        data += _slow_drift(rngs["drift"], len(EMOTIV_CHANNELS), data.shape[1], sfreq, (10e-6, 30e-6))
    _bad_channel(rngs["bad"], data, config.bad_channel_probability, truth)
    return data, truth


def _neural_eeg(
    rng: np.random.Generator,
    params: SubjectParams,
    timeline: Timeline,
    v_seg: np.ndarray,
    a_seg: np.ndarray,
    sfreq: float,
) -> np.ndarray:
    """Sum of the five spatially blurred, state-modulated band processes, volts, (14, n_times)."""
    n_ch, n_seg, n_trials = len(EMOTIV_CHANNELS), len(timeline.starts), (len(timeline.starts) - 2) // 2
    n_times = timeline_samples(timeline, sfreq)
    spectra = {  # same order as BANDS
        "background": lambda f: (f**2 + 1.0) ** (-params.exponent / 2),
        "theta": gaussian_spectrum(6.0, 1.0),
        "alpha": gaussian_spectrum(params.iaf_hz, 0.8),
        "beta": gaussian_spectrum(params.beta_hz, 3.5),
        "gamma": gaussian_spectrum(38.0, 4.0),
    }
    stimulus = np.zeros(n_seg)
    stimulus[2 : 2 + 2 * n_trials : 2] = 1.0
    patterns = effect_patterns()
    states = ((params.valence_gain, v_seg), (params.arousal_gain, a_seg))
    engagement = {"alpha": -0.3 * np.outer(_by_region({"P": 1.0, "O": 1.0}), stimulus)}
    half_fatigue = np.linspace(0.0, 0.125, n_times, dtype=np.float32)  # ln amplitude, +0.25 ln power
    mixing = spatial_mixing().astype(np.float32)
    out = np.zeros((n_ch, n_times), dtype=np.float32)
    for b, (band, psd) in enumerate(spectra.items()):
        trial_offset = np.repeat(rng.normal(0.0, 0.15, n_trials), 2)
        ln_power = np.concatenate([[0.0], trial_offset, [0.0]]) + rng.normal(0.0, 0.08, (n_ch, n_seg))
        ln_power = ln_power + engagement.get(band, 0.0)
        for k, (gain, state) in enumerate(states):
            common = gain * patterns.get((band, k), np.zeros(n_ch))
            ln_power += np.outer(common + params.idiosyncratic[k, b], state)
        ln_amplitude = 0.5 * ln_power + np.log(_by_region(_BAND_AMPLITUDE_UV[band]) * 1e-6)[:, None]
        # Single precision, in place: this (14 x n_times) arithmetic dominates the generation time.
        envelope = lagged_profile(ln_amplitude.astype(np.float32), timeline, sfreq, lag_s=1.0)
        if band in ("alpha", "theta"):
            envelope += half_fatigue
        np.exp(envelope, out=envelope)
        envelope *= _mix(mixing, colored_noise(rng, n_ch, n_times, sfreq, psd))
        out += envelope
    return out.astype(float)


def _mix(mixing: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``mixing @ sources`` ``(n_ch, n_times)``, float32, the same bits whatever BLAS thread count the process has.

    OpenBLAS splits a multi-threaded product differently and rounds the
    float32 sums differently (about 1e-7 relative), so a session generated in
    the main process (one BLAS thread per core) would differ from the same
    session generated in a pool or Dask worker (one BLAS thread). One thread
    here gives every process the workers' numbers.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return mixing @ sources


def _blinks(rng: np.random.Generator, duration: float, sfreq: float, n_times: int) -> tuple[np.ndarray, np.ndarray]:
    """Blink potentials (14, n_times) volts and blink onsets (s)."""
    onsets = renewal_times(rng, 0.0, duration - 0.5, rate_per_min=15.0, refractory=1.0)
    amplitudes = rng.uniform(100e-6, 200e-6, onsets.size)
    train = np.zeros(n_times)
    np.add.at(train, np.rint(onsets * sfreq).astype(int), amplitudes)
    # Gamma-shaped lid potential: fast rise, peak at 0.1 s, back near zero by ~0.35 s.
    k_t = np.arange(int(0.5 * sfreq)) / sfreq
    kernel = (k_t / 0.1) ** 2 * np.exp(2.0 - 2.0 * k_t / 0.1)
    waveform = np.convolve(train, kernel)[:n_times]
    return np.outer(_by_region(_BLINK_WEIGHT), waveform), onsets


def _slow_drift(
    rng: np.random.Generator, n_ch: int, n_times: int, sfreq: float, sd_range: tuple[float, float]
) -> np.ndarray:
    """Independent drifts below ~0.5 Hz (1/f^2 spectrum, tapered), (n_ch, n_times)."""
    noise = colored_noise(rng, n_ch, n_times, sfreq, slow_spectrum)
    return rng.uniform(*sd_range, (n_ch, 1)) * noise


def _bad_channel(rng: np.random.Generator, data: np.ndarray, probability: float, truth: dict) -> None:
    """Maybe make one channel flat or very noisy, in place, and record it in ``truth``."""
    draw, channel, kind_draw = rng.uniform(), int(rng.integers(len(EMOTIV_CHANNELS))), rng.uniform()
    noise = rng.standard_normal(data.shape[1])
    if draw >= probability:
        return
    name = EMOTIV_CHANNELS[channel]
    if kind_draw < 0.5:
        data[channel] = 20e-9 * noise
        kind = "flat"
    else:
        data[channel] += 120e-6 * noise
        kind = "noisy"
    truth["bad_channels"] = [name]
    truth["bad_channel_kinds"] = {name: kind}
