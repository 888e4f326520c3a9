"""Per-subject draws of the synthetic cohort: subject constants, the trial timeline, ratings and latent state.

Model in :mod:`biosig.datasets.synthetic`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from biosig.datasets.synthetic.config import (
    DREAMER_CLIPS,
    EMOTIV_CHANNELS,
    HR_DECELERATOR_PROBABILITY,
    IDIOSYNCRATIC_AROUSAL_LN,
    IDIOSYNCRATIC_VALENCE_LN,
    REPORT_BIAS_SD,
    SubjectParams,
    SyntheticConfig,
)
from biosig.datasets.synthetic.eeg import BANDS, effect_patterns, spatial_mixing
from biosig.datasets.synthetic.signals import Timeline
from biosig.session import TRIAL_COLUMNS

_REST_SECONDS = 2.0  # before the first baseline and after the last stimulus, so filters' edges miss the trials


# --------------------------------------------------------------------------- subject, trials


def draw_subject(rng: np.random.Generator, config: SyntheticConfig) -> SubjectParams:
    """A subject's constants (module docstring of :mod:`biosig.datasets.synthetic`), from its ``subject`` stream."""
    # Every draw happens whatever the outcome, so the stream stays aligned across configs.
    gains = np.exp(rng.normal(0.0, 0.45, 2))
    atypical_draw, which_draw, kind_draw = rng.uniform(size=3)
    atypical = None
    if atypical_draw < config.atypical_subject_probability:
        which = "valence" if which_draw < 0.5 else "arousal"
        kind, factor = ("flipped", -0.6) if kind_draw < 0.5 else ("weak", 0.15)
        gains[0 if which == "valence" else 1] *= factor
        atypical = f"{which} {kind}"
    return SubjectParams(
        iaf_hz=float(rng.uniform(8.5, 11.5)),
        beta_hz=float(rng.uniform(17.0, 23.0)),
        exponent=float(rng.uniform(1.0, 1.6)),
        channel_gain=np.exp(rng.normal(0.0, 0.15, len(EMOTIV_CHANNELS)) + rng.normal(0.0, 0.15)),
        valence_gain=float(gains[0] * config.valence_effect),
        arousal_gain=float(gains[1] * config.arousal_effect),
        idiosyncratic=_idiosyncratic(rng, config),
        autonomic_gain=float(np.exp(rng.normal(0.0, 0.6))),
        atypical=atypical,
        hr_bpm=float(rng.uniform(60.0, 80.0)),
        hrv_bpm=float(rng.uniform(2.0, 4.0)),
        resp_hz=float(rng.uniform(0.2, 0.3)),
        ecg_gain_v=(float(rng.uniform(0.7e-3, 1.1e-3)), float(rng.uniform(0.5e-3, 0.8e-3))),
        scl_us=float(rng.uniform(2.0, 8.0)),
        scr_rate_per_min=float(rng.uniform(1.5, 4.0)),
        scr_amp_us=float(rng.uniform(0.2, 0.5)),
        rating_bias=rng.normal(0.0, 0.25, 3),
        report_bias=rng.normal(0.0, REPORT_BIAS_SD, 3),
        hr_sign=-1.0 if rng.uniform() < HR_DECELERATOR_PROBABILITY else 1.0,
    )


def _idiosyncratic(rng: np.random.Generator, config: SyntheticConfig) -> np.ndarray:
    """A subject's own ln-power loadings of v and a, (2, n_bands, 14), smooth over the scalp.

    Rhythms only (the broadband background would blur every band's effect),
    each loading orthogonal to the designed effect's channel pattern in its
    band: it varies the subject's signature without hiding the population effect.
    """
    loadings = rng.normal(0.0, 1.0, (2, len(BANDS), len(EMOTIV_CHANNELS))) @ spatial_mixing().T
    loadings[:, BANDS.index("background")] = 0.0
    for (band, state), pattern in effect_patterns().items():
        unit = pattern / np.linalg.norm(pattern)
        row = loadings[state, BANDS.index(band)]
        row -= (row @ unit) * unit
    scale = [IDIOSYNCRATIC_VALENCE_LN * config.valence_effect, IDIOSYNCRATIC_AROUSAL_LN * config.arousal_effect]
    return loadings * np.array(scale)[:, None, None]


def make_timeline(config: SyntheticConfig) -> Timeline:
    """Segment starts and ends (s) of rest, (baseline, stimulus) x n_trials, rest."""
    trial_len = config.baseline_seconds + config.stimulus_seconds
    onsets = _REST_SECONDS + trial_len * np.arange(config.n_trials)
    inner = np.column_stack([onsets, onsets + config.baseline_seconds]).ravel()
    last_end = onsets[-1] + trial_len
    duration = float(np.ceil(last_end + _REST_SECONDS))
    starts = np.concatenate([[0.0], inner, [last_end]])
    ends = np.concatenate([starts[1:], [duration]])
    return Timeline(starts=starts, ends=ends, duration=duration)


def trial_table(
    rng: np.random.Generator, params: SubjectParams, timeline: Timeline, config: SyntheticConfig
) -> tuple[pd.DataFrame, np.ndarray]:
    """Trial table with integer ratings, and the latent (n_trials, 3) state behind them."""
    n = config.n_trials
    nominal = np.array([DREAMER_CLIPS[j % len(DREAMER_CLIPS)][1:] for j in range(n)])
    latent = np.clip(nominal + params.rating_bias + rng.normal(0.0, 0.55, (n, 3)), 1.0, 5.0)
    reported = latent + params.report_bias + rng.normal(0.0, 0.3, (n, 3))
    ratings = np.clip(np.rint(reported), 1, 5).astype(int)
    base = np.array([timeline.baseline(j) for j in range(n)])
    stim = np.array([timeline.stimulus(j) for j in range(n)])
    trials = pd.DataFrame(
        {
            "trial": np.arange(1, n + 1),
            "baseline_onset": timeline.starts[base],
            "baseline_duration": timeline.ends[base] - timeline.starts[base],
            "stimulus_onset": timeline.starts[stim],
            "stimulus_duration": timeline.ends[stim] - timeline.starts[stim],
            "valence": ratings[:, 0],
            "arousal": ratings[:, 1],
            "dominance": ratings[:, 2],
        },
        columns=list(TRIAL_COLUMNS),
    )
    return trials, latent


def state_segments(latent: np.ndarray, timeline: Timeline, n_trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment v and a in [-1, 1]: the latent state during stimuli, 0 at rest."""
    v = np.zeros(len(timeline.starts))
    a = np.zeros(len(timeline.starts))
    stim = [timeline.stimulus(j) for j in range(n_trials)]
    v[stim] = (latent[:, 0] - 3.0) / 2.0
    a[stim] = (latent[:, 1] - 3.0) / 2.0
    return v, a
