"""Deterministic synthetic DREAMER-like cohort: 14-channel EEG, 2-lead ECG and EDA.

Each subject watches ``n_trials`` film clips (DREAMER's 18 clips, cycled); trial
*j* is a resting baseline of ``baseline_seconds`` followed by a stimulus of
``stimulus_seconds``, back to back, with 2 s of rest before the first trial and
at least 2 s after the last (the end is rounded up to a whole second so EDF
export needs no padding). All modalities start at t = 0 s and are in SI units.

Generative model
----------------
*Ratings.* Each clip has a nominal (valence, arousal, dominance) on 1-5
(:data:`DREAMER_CLIPS`). A subject's latent state for a trial is
``nominal + subject bias (sd 0.25) + trial noise (sd 0.55)``, clipped to
[1, 5]; the self-report adds the subject's response style (a bias of sd
``REPORT_BIAS_SD`` = 0.4 per scale, the same for all the subject's trials) and
reporting noise (sd 0.3), and is rounded and clipped to the integers 1..5.
Response style does not touch the physiology: within a subject it only moves
the rating thresholds, across subjects it makes the same physiology carry
different labels, one reason why subject-independent models score lower. The physiology is driven by the *latent* state through
``v = (latent valence - 3) / 2`` and ``a = (latent arousal - 3) / 2`` (both in
[-1, 1]; one rating point is 0.5 unit), so ratings are learnable but noisy.
Dominance drives nothing directly (it correlates with valence via the clips).
During baselines and the rest periods v = a = 0.

*EEG* (14 Emotiv channels, volts, montage set). Per channel, the sum of five
band-limited Gaussian processes made by spectral shaping of white noise:
1/f^chi background (chi 1.0-1.6 per subject, 8-9 µV), theta (6 Hz, 2-3.5 µV,
frontal), alpha (Gaussian peak at the subject's individual alpha frequency,
8.5-11.5 Hz; 8-10 µV occipito-parietal, 3.5-4.5 µV elsewhere), beta (peak
17-23 Hz, 2.5-3 µV) and gamma (38 Hz, 1-1.5 µV, most temporal), each blurred
over neighbouring electrodes (Gaussian kernel of 3 cm on the scalp): 10-20 µV
per channel before artefacts. Each band's power follows the state with a 1 s
lag. Effects in natural-log power per unit of v or a (x 4.34 for dB; one
rating point is half a unit), times the subject's effect gain:

* valence -> frontal alpha asymmetry: ``ln(alpha_F4) - ln(alpha_F3)`` (and
  AF4/AF3) rises by ``FAA_LN = 0.5`` per unit v (1.1 dB per rating point);
  F8/F7 and FC6/FC5 by 0.6 of that. Right alpha rises, left alpha falls.
* arousal -> alpha suppression ``ALPHA_AROUSAL_LN = -0.3`` per unit a on
  occipital/parietal channels (-0.65 dB per rating point), 0.6 of it on
  temporal and 0.4 on frontal channels; beta ``+0.15`` and gamma ``+0.18`` per
  unit a on every channel (+0.33 and +0.39 dB per rating point).
* idiosyncratic: each subject also has its own channel loadings of v
  (sd 0.22) and of a (sd 0.33) on each rhythm, smooth over the scalp and
  orthogonal to the designed pattern of that band. They help within-subject
  models and are noise to cross-subject ones, as in real cohorts.
* nuisance that baseline normalisation removes: a trial offset shared by a
  trial's baseline and stimulus (sd 0.15 per band), a slow alpha and theta
  rise over the session (+0.25, fatigue) and a constant posterior alpha drop
  while watching (-0.3, visual engagement). Not removed: per-segment,
  per-channel jitter (sd 0.08).

Measured on the default cohort (Welch, stimulus minus baseline, regressed on
the ratings over all trials; rating noise, subject gains and the 1/f
background in each band shrink the designed sizes): frontal alpha asymmetry
+0.8 dB per valence point (Spearman 0.62), posterior alpha -0.3 dB, beta
+0.1 dB and gamma +0.08 dB per arousal point (Spearman -0.46, 0.49, 0.45).
With 4 s windows, baseline-subtracted log band powers and an L2 logistic
regression on the EEG, binary (rating > 3) weighted F1 is about 0.79-0.81
(valence) and 0.72-0.76 (arousal) within subject (5-fold over whole trials)
and about 0.56-0.63 and 0.62-0.72 leave-one-subject-out, depending on the
seed. ECG and EDA features raise cross-subject arousal: their effects are
more consistent across subjects.

*Per-subject variation.* Channel gains (log-sd 0.15) and overall amplitude
(log-sd 0.15), individual alpha and beta frequencies, spectral exponent, and
EEG effect gains for valence and arousal (log-normal, log-sd 0.45). With
probability ``atypical_subject_probability`` a subject is atypical: one EEG
effect (valence or arousal, equally likely) is flipped (x -0.6) or weak
(x 0.15); ``info["atypical"]`` says which. Autonomic effects have their own
gain (log-sd 0.6); the EDA effects are never flipped, but with probability
``HR_DECELERATOR_PROBABILITY`` = 0.3 a subject's heart decelerates with
arousal (``sign`` = -1 below, an orienting-response style; ``info["effect_gains"]["hr_sign"]``).

*ECG* (``ECG1``, ``ECG2``, volts). Heart rate ``base (60-80 bpm) +
sign * HR_BPM_PER_AROUSAL * gain * a`` (8 bpm per unit a, i.e. 4 bpm per rating
point) plus a trial offset shared with the baseline (sd 1.5 bpm) and a
stimulus-only offset unrelated to arousal (sd 4.5 bpm), reached with a 3 s lag;
heart rate variability is a Gaussian process with LF (0.1 Hz) and respiratory
HF (0.2-0.3 Hz) peaks and sd ``2-4 bpm * exp(-0.3 * gain * a)``. Beats are
placed by integrating the instantaneous rate (phase); each beat is the
subject's NeuroKit2 ECGSYN beat (``nk.ecg_simulate(method="ecgsyn")``, one 8 s
call per lead and subject: ECGSYN over whole sessions would cost ~0.4 s per
2 min, and ``method="simple"`` ignores ``heart_rate_std``) with the QRS at
fixed width and the rest of the cycle stretched to the RR interval. Lead 2
uses other wave amplitudes. R peaks ~1 mV; plus 8 µV white noise, respiratory
and slow baseline wander (drifts) and 10-20 µV of line noise (line_noise).

*EDA* (``EDA``, siemens; built in µS). Tonic level ``2-8 µS * (1 + 0.1 * gain
* a)`` with an 8 s lag, slow decline and wander (drifts); SCRs are a renewal
process (at least 4 s apart) at ``1.5-4 /min * exp(0.7 * gain * a)`` with
log-normal amplitudes (~0.2-0.5 µS, x(1 + 0.25 a)) and NeuroKit2's SCR shape
(``nk.eda_simulate``) slowed 2.5 times (peak 1.5-3 s after onset, half
recovery ~4 s later); plus 2 nS white noise.

*Artefacts* (EEG). 50 Hz line noise on every channel (1-4 µV, slowly varying
amplitude); blinks (renewal process, mean 15 /min, at least 1 s apart;
100-200 µV, ~0.3 s) weighted AF3/AF4 1, F7/F8 0.55, F3/F4 0.45, FC5/FC6 0.2,
T7/T8 0.08, posterior 0.02; slow drifts below 0.5 Hz (10-30 µV); with
probability ``bad_channel_probability`` one channel of the subject is flat
(20 nV of noise) or very noisy (+120 µV white noise). Channels are not marked
in ``raw.info["bads"]``: finding them is preprocessing's job.

Ground truth in ``Session.info``: ``latent_valence``, ``latent_arousal``,
``latent_dominance`` (per trial), ``clip_emotion``, ``true_hr_bpm`` and
``true_hr_std_bpm`` (per trial stimulus), ``true_hr_baseline_bpm``,
``true_scr_count`` and ``true_scr_baseline_count`` (SCR onsets inside each
stimulus / baseline), ``bad_channels`` (list) and ``bad_channel_kinds``
(channel -> "flat" | "noisy"), ``blink_onsets_s``, ``iaf_hz``,
``effect_gains``, ``atypical``, ``line_freq``, ``seed``, ``subject_index`` and
``config``.

Randomness: subject *k* uses ``numpy.random.SeedSequence([seed, k])``, spawned
into independent streams per component, so subject *k* is the same alone or
in a cohort, and switching an artefact off leaves every other signal as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mne
import neurokit2 as nk
import numpy as np
import pandas as pd
import scipy.fft
import scipy.signal
from pydantic import BaseModel, ConfigDict, Field

from biosig.errors import ConfigError
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

#: The 14 EEG channels of the Emotiv EPOC used by DREAMER, in its order.
EMOTIV_CHANNELS: tuple[str, ...] = (
    "AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4",
)  # fmt: skip

#: DREAMER's 18 clips: (target emotion, nominal valence, arousal, dominance on 1-5).
DREAMER_CLIPS: tuple[tuple[str, float, float, float], ...] = (
    ("calm", 3.8, 1.8, 3.4),
    ("surprise", 3.6, 3.4, 3.1),
    ("amusement", 4.2, 3.2, 3.6),
    ("fear", 1.9, 4.0, 2.1),
    ("excitement", 4.1, 4.0, 3.6),
    ("disgust", 1.8, 3.6, 2.5),
    ("happiness", 4.4, 3.4, 3.8),
    ("anger", 1.7, 3.9, 2.6),
    ("sadness", 1.7, 2.4, 2.2),
    ("disgust", 2.0, 3.5, 2.6),
    ("calm", 3.7, 1.7, 3.3),
    ("amusement", 4.2, 3.1, 3.7),
    ("happiness", 4.3, 3.3, 3.8),
    ("anger", 1.8, 3.8, 2.7),
    ("fear", 2.0, 3.9, 2.2),
    ("excitement", 4.0, 4.1, 3.5),
    ("sadness", 1.8, 2.3, 2.3),
    ("surprise", 3.5, 3.5, 2.9),
)

ECG_CHANNELS: tuple[str, ...] = ("ECG1", "ECG2")
EDA_CHANNELS: tuple[str, ...] = ("EDA",)
LINE_FREQ = 50.0  # Hz, mains of the simulated lab

# Designed effect sizes (natural-log power, per unit of v or a; see module docstring).
FAA_LN = 0.5
ALPHA_AROUSAL_LN = -0.3
BETA_AROUSAL_LN = 0.15
GAMMA_AROUSAL_LN = 0.18
HR_BPM_PER_AROUSAL = 8.0
REPORT_BIAS_SD = 0.4
HR_DECELERATOR_PROBABILITY = 0.3
HRV_LN_PER_AROUSAL = -0.3
SCR_RATE_LN_PER_AROUSAL = 0.7
SCL_FRACTION_PER_AROUSAL = 0.1
# sd of a subject's own (idiosyncratic) channel x band ln-power loadings of v and of a
IDIOSYNCRATIC_VALENCE_LN = 0.22
IDIOSYNCRATIC_AROUSAL_LN = 0.33

_SCR_STRETCH = 2.5
_SCR_REFRACTORY_S = 4.0  # SCR onsets at least this far apart, so each stays a separate peak
_REST_SECONDS = 2.0  # before the first baseline and after the last stimulus, so filters' edges miss the trials
_STREAMS = ("subject", "ratings", "eeg", "line", "blinks", "drift", "bad", "ecg", "eda")


class SyntheticConfig(BaseModel):
    """Settings of the synthetic cohort (sizes, timing, sampling rates, effects, artefacts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_subjects: int = Field(8, ge=1, description="Subjects in the cohort.")
    n_trials: int = Field(18, ge=1, description="Trials per subject; DREAMER's 18 clips are cycled.")
    baseline_seconds: float = Field(61.0, ge=4.0, description="Pre-trial resting baseline, s.")
    stimulus_seconds: float = Field(60.0, ge=4.0, description="Film clip, s (DREAMER's are longer).")
    eeg_sfreq: float = Field(128.0, gt=2 * LINE_FREQ, description="EEG sampling rate, Hz (above 2x line frequency).")
    ecg_sfreq: float = Field(256.0, ge=100.0, description="ECG sampling rate, Hz.")
    eda_sfreq: float = Field(64.0, ge=8.0, description="EDA sampling rate, Hz.")
    seed: int = Field(0, ge=0, description="Root seed; subject k uses SeedSequence([seed, k]).")
    valence_effect: float = Field(1.0, ge=0.0, description="Multiplier of the valence EEG effect (0 removes it).")
    arousal_effect: float = Field(
        1.0, ge=0.0, description="Multiplier of all arousal effects (EEG, heart rate, HRV, EDA; 0 removes them)."
    )
    atypical_subject_probability: float = Field(
        0.2, ge=0.0, le=1.0, description="Chance that a subject has one EEG effect flipped or weak."
    )
    line_noise: bool = Field(True, description="Add 50 Hz mains interference (EEG and ECG).")
    blinks: bool = Field(True, description="Add eye blinks on frontal EEG channels.")
    drifts: bool = Field(True, description="Add slow drifts (EEG < 0.5 Hz, ECG baseline wander, EDA wander).")
    bad_channel_probability: float = Field(
        0.25, ge=0.0, le=1.0, description="Chance that a subject has one flat or very noisy EEG channel."
    )


@dataclass(frozen=True)
class _Subject:
    """Per-subject constants drawn once from the subject's ``subject`` stream."""

    iaf_hz: float
    beta_hz: float
    exponent: float
    channel_gain: np.ndarray  # (14,), multiplies the neural EEG
    valence_gain: float  # EEG valence effect, sign included
    arousal_gain: float  # EEG arousal effect, sign included
    idiosyncratic: np.ndarray  # (2, 5, 14) own ln-power loadings of v and a per band and channel
    autonomic_gain: float  # heart rate, HRV and EDA arousal effects
    hr_sign: float  # -1 for a subject whose heart decelerates with arousal (orienting response)
    atypical: str | None
    hr_bpm: float
    hrv_bpm: float
    resp_hz: float
    ecg_gain_v: tuple[float, float]
    scl_us: float
    scr_rate_per_min: float
    scr_amp_us: float
    rating_bias: np.ndarray  # (3,) valence, arousal, dominance: felt differently
    report_bias: np.ndarray  # (3,) response style: shifts the self-report only


@dataclass(frozen=True)
class _Timeline:
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


def make_cohort(config: SyntheticConfig | None = None) -> list[Session]:
    """Generate every subject of the configured cohort.

    Parameters
    ----------
    config
        Cohort settings; the defaults when None.

    Returns
    -------
    list of Session
        ``config.n_subjects`` sessions, subjects ``"S01"``, ``"S02"``...; element
        *k* equals ``make_session(k, config)``.
    """
    config = config or SyntheticConfig()
    return [make_session(k, config) for k in range(config.n_subjects)]


def make_session(subject: int, config: SyntheticConfig | None = None) -> Session:
    """Generate one subject's session.

    Parameters
    ----------
    subject
        0-based subject index, ``0 <= subject < config.n_subjects``; the
        subject id is ``f"S{subject + 1:02d}"``.
    config
        Cohort settings; the defaults when None.

    Returns
    -------
    Session
        EEG (14 channels, ``config.eeg_sfreq`` Hz, volts, montage and trial
        annotations set), ECG (2 leads, volts), EDA (siemens), the trial table
        and the ground truth in ``info`` (keys listed in the module docstring).

    Raises
    ------
    ConfigError
        If ``subject`` is outside the cohort.
    """
    config = config or SyntheticConfig()
    if not 0 <= subject < config.n_subjects:
        raise ConfigError(f"subject index {subject} is outside the cohort 0..{config.n_subjects - 1} (n_subjects)")
    seeds = np.random.SeedSequence([config.seed, subject]).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, seeds)}
    params = _draw_subject(rngs["subject"], config)
    timeline = _timeline(config)
    trials, latent = _trials(rngs["ratings"], params, timeline, config)
    v_seg, a_seg = _state_segments(latent, timeline, config.n_trials)

    eeg, artefacts = _eeg(rngs, params, timeline, v_seg, a_seg, config)
    ecg, hr = _ecg(rngs["ecg"], params, timeline, a_seg * config.arousal_effect, config)
    eda, scr = _eda(rngs["eda"], params, timeline, a_seg * config.arousal_effect, config)

    annotations = trial_annotations(trials)
    raws = {
        "eeg": _raw(eeg, EMOTIV_CHANNELS, "eeg", config.eeg_sfreq),
        "ecg": _raw(ecg, ECG_CHANNELS, "ecg", config.ecg_sfreq),
        "eda": _raw(eda, EDA_CHANNELS, "gsr", config.eda_sfreq),
    }
    raws["eeg"].set_montage(standard_montage(), verbose="error")
    for raw in raws.values():
        raw.set_annotations(annotations)
    stim = [timeline.stimulus(j) for j in range(config.n_trials)]
    base = [timeline.baseline(j) for j in range(config.n_trials)]
    info = {
        "source": "synthetic",
        "seed": config.seed,
        "subject_index": subject,
        "config": config.model_dump(),
        "clip_emotion": [DREAMER_CLIPS[j % len(DREAMER_CLIPS)][0] for j in range(config.n_trials)],
        "latent_valence": latent[:, 0].tolist(),
        "latent_arousal": latent[:, 1].tolist(),
        "latent_dominance": latent[:, 2].tolist(),
        "true_hr_bpm": hr["mean"][stim].tolist(),
        "true_hr_std_bpm": hr["std"][stim].tolist(),
        "true_hr_baseline_bpm": hr["mean"][base].tolist(),
        "true_scr_count": scr[stim].astype(int).tolist(),
        "true_scr_baseline_count": scr[base].astype(int).tolist(),
        "iaf_hz": params.iaf_hz,
        "effect_gains": {
            "valence": params.valence_gain,
            "arousal": params.arousal_gain,
            "autonomic": params.autonomic_gain,
            "hr_sign": params.hr_sign,
        },
        "atypical": params.atypical,
        "line_freq": LINE_FREQ,
        **artefacts,
    }
    return Session(subject=f"S{subject + 1:02d}", trials=trials, info=info, **raws)


# --------------------------------------------------------------------------- subject, trials


def _draw_subject(rng: np.random.Generator, config: SyntheticConfig) -> _Subject:
    # Every draw happens whatever the outcome, so the stream stays aligned across configs.
    gains = np.exp(rng.normal(0.0, 0.45, 2))
    atypical_draw, which_draw, kind_draw = rng.uniform(size=3)
    atypical = None
    if atypical_draw < config.atypical_subject_probability:
        which = "valence" if which_draw < 0.5 else "arousal"
        kind, factor = ("flipped", -0.6) if kind_draw < 0.5 else ("weak", 0.15)
        gains[0 if which == "valence" else 1] *= factor
        atypical = f"{which} {kind}"
    return _Subject(
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
    loadings = rng.normal(0.0, 1.0, (2, len(_BANDS), len(EMOTIV_CHANNELS))) @ _spatial_mixing().T
    loadings[:, _BANDS.index("background")] = 0.0
    for (band, state), pattern in _effect_patterns().items():
        unit = pattern / np.linalg.norm(pattern)
        row = loadings[state, _BANDS.index(band)]
        row -= (row @ unit) * unit
    scale = [IDIOSYNCRATIC_VALENCE_LN * config.valence_effect, IDIOSYNCRATIC_AROUSAL_LN * config.arousal_effect]
    return loadings * np.array(scale)[:, None, None]


def _timeline(config: SyntheticConfig) -> _Timeline:
    trial_len = config.baseline_seconds + config.stimulus_seconds
    onsets = _REST_SECONDS + trial_len * np.arange(config.n_trials)
    inner = np.column_stack([onsets, onsets + config.baseline_seconds]).ravel()
    last_end = onsets[-1] + trial_len
    duration = float(np.ceil(last_end + _REST_SECONDS))
    starts = np.concatenate([[0.0], inner, [last_end]])
    ends = np.concatenate([starts[1:], [duration]])
    return _Timeline(starts=starts, ends=ends, duration=duration)


def _trials(
    rng: np.random.Generator, params: _Subject, timeline: _Timeline, config: SyntheticConfig
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


def _state_segments(latent: np.ndarray, timeline: _Timeline, n_trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment v and a in [-1, 1]: the latent state during stimuli, 0 at rest."""
    v = np.zeros(len(timeline.starts))
    a = np.zeros(len(timeline.starts))
    stim = [timeline.stimulus(j) for j in range(n_trials)]
    v[stim] = (latent[:, 0] - 3.0) / 2.0
    a[stim] = (latent[:, 1] - 3.0) / 2.0
    return v, a


# --------------------------------------------------------------------------- signal helpers


def _n_times(timeline: _Timeline, sfreq: float) -> int:
    return int(round(timeline.duration * sfreq))


def _segment_ids(timeline: _Timeline, sfreq: float) -> np.ndarray:
    """Segment index of every sample, shape (n_times,)."""
    t = np.arange(_n_times(timeline, sfreq)) / sfreq
    return np.searchsorted(timeline.starts, t, side="right") - 1


def _profile(values: np.ndarray, timeline: _Timeline, sfreq: float, lag_s: float) -> np.ndarray:
    """Per-segment ``values`` (..., n_segments) as a signal that follows them with a first-order lag.

    The lag stands for the physiological response time: after a step the
    signal has covered 63 % of it within ``lag_s`` seconds. Computed in closed
    form per segment (exponential approach from the level reached at its
    start). Returns shape (..., n_times) at ``sfreq``.
    """
    seg_ids = _segment_ids(timeline, sfreq)
    since_start = np.arange(seg_ids.size) / sfreq - timeline.starts[seg_ids]
    carry = np.exp(-(timeline.ends - timeline.starts) / lag_s)
    start_level = np.empty_like(values)
    start_level[..., 0] = values[..., 0]
    for k in range(1, values.shape[-1]):  # a loop over ~2 n_trials segments, not samples
        start_level[..., k] = values[..., k - 1] + (start_level[..., k - 1] - values[..., k - 1]) * carry[k - 1]
    decay = np.exp(-since_start / lag_s).astype(values.dtype)
    return values[..., seg_ids] + (start_level - values)[..., seg_ids] * decay


def _colored_noise(rng: np.random.Generator, n_series: int, n_times: int, sfreq: float, psd) -> np.ndarray:
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


def _slow(f: np.ndarray) -> np.ndarray:
    """1/f^2 spectrum tapered above ~0.3 Hz: electrode drifts and baseline wander."""
    return np.exp(-((f / 0.3) ** 4)) / (f**2 + 0.01**2)


def _gauss(center: float, width: float):
    return lambda f: np.exp(-0.5 * ((f - center) / width) ** 2)


def _renewal(rng: np.random.Generator, start: float, end: float, rate_per_min: float, refractory: float) -> np.ndarray:
    """Event times in [start, end): intervals of ``refractory`` plus an exponential, mean 60/rate s."""
    mean_interval = 60.0 / rate_per_min
    n_max = int(np.ceil((end - start) / refractory)) + 1
    gaps = refractory + rng.exponential(max(mean_interval - refractory, 1e-3), n_max)
    gaps[0] = rng.uniform(0.0, mean_interval)  # the process is already running when the segment starts
    times = start + np.cumsum(gaps)
    return times[times < end]


def _raw(data: np.ndarray, names: tuple[str, ...], ch_type: str, sfreq: float) -> mne.io.RawArray:
    info = mne.create_info(list(names), sfreq, ch_type)
    if ch_type in ("eeg", "ecg"):
        info["line_freq"] = LINE_FREQ
    return mne.io.RawArray(data, info, verbose="error")


# --------------------------------------------------------------------------- EEG

# Regions of EMOTIV_CHANNELS, in order: AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4.
_REGION = ("AF", "F7", "F", "FC", "T", "P", "O", "O", "P", "T", "FC", "F", "F7", "AF")
_RIGHT = np.array([ch[-1] in "2468" for ch in EMOTIV_CHANNELS])

_BANDS = ("background", "theta", "alpha", "beta", "gamma")
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


def _effect_patterns() -> dict[tuple[str, int], np.ndarray]:
    """Designed effects: ln power per unit of v (key ``(band, 0)``) or a (``(band, 1)``), per channel."""
    return {
        ("alpha", 0): FAA_LN * _by_region(_FAA_WEIGHT) * np.where(_RIGHT, 0.5, -0.5),
        ("alpha", 1): ALPHA_AROUSAL_LN * _by_region(_ALPHA_AROUSAL_WEIGHT),
        ("beta", 1): np.full(len(EMOTIV_CHANNELS), BETA_AROUSAL_LN),
        ("gamma", 1): np.full(len(EMOTIV_CHANNELS), GAMMA_AROUSAL_LN),
    }


@lru_cache(maxsize=1)
def _spatial_mixing() -> np.ndarray:
    """(14, 14) Gaussian blur over scalp distance (3 cm), rows of unit norm so variance is kept."""
    pos = standard_montage().get_positions()["ch_pos"]
    xyz = np.array([pos[ch] for ch in EMOTIV_CHANNELS])
    dist = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    mixing = np.exp(-0.5 * (dist / 0.03) ** 2)
    return mixing / np.linalg.norm(mixing, axis=1, keepdims=True)


def _eeg(
    rngs: dict[str, np.random.Generator],
    params: _Subject,
    timeline: _Timeline,
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
        data += _line_noise(rngs["line"], t, len(EMOTIV_CHANNELS), (1e-6, 4e-6))
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
    params: _Subject,
    timeline: _Timeline,
    v_seg: np.ndarray,
    a_seg: np.ndarray,
    sfreq: float,
) -> np.ndarray:
    """Sum of the five spatially blurred, state-modulated band processes, volts, (14, n_times)."""
    n_ch, n_seg, n_trials = len(EMOTIV_CHANNELS), len(timeline.starts), (len(timeline.starts) - 2) // 2
    n_times = _n_times(timeline, sfreq)
    spectra = {  # same order as _BANDS
        "background": lambda f: (f**2 + 1.0) ** (-params.exponent / 2),
        "theta": _gauss(6.0, 1.0),
        "alpha": _gauss(params.iaf_hz, 0.8),
        "beta": _gauss(params.beta_hz, 3.5),
        "gamma": _gauss(38.0, 4.0),
    }
    stimulus = np.zeros(n_seg)
    stimulus[2 : 2 + 2 * n_trials : 2] = 1.0
    patterns = _effect_patterns()
    states = ((params.valence_gain, v_seg), (params.arousal_gain, a_seg))
    engagement = {"alpha": -0.3 * np.outer(_by_region({"P": 1.0, "O": 1.0}), stimulus)}
    half_fatigue = np.linspace(0.0, 0.125, n_times, dtype=np.float32)  # ln amplitude, +0.25 ln power
    mixing = _spatial_mixing().astype(np.float32)
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
        envelope = _profile(ln_amplitude.astype(np.float32), timeline, sfreq, lag_s=1.0)
        if band in ("alpha", "theta"):
            envelope += half_fatigue
        np.exp(envelope, out=envelope)
        envelope *= mixing @ _colored_noise(rng, n_ch, n_times, sfreq, psd)
        out += envelope
    return out.astype(float)


def _line_noise(rng: np.random.Generator, t: np.ndarray, n_ch: int, amp_range: tuple[float, float]) -> np.ndarray:
    """Mains interference, (n_ch, n_times): shared phase, per-channel amplitude, slow amplitude swing."""
    amp = rng.uniform(*amp_range, n_ch)
    phase = rng.uniform(0.0, 2 * np.pi) + rng.normal(0.0, 0.1, n_ch)
    swing = 1.0 + 0.2 * np.sin(2 * np.pi * 0.02 * t + rng.uniform(0.0, 2 * np.pi))
    carrier = 2 * np.pi * LINE_FREQ * t
    # sin(wt + phase) expanded, so only two sinusoids are evaluated whatever the channel count.
    return np.outer(amp * np.cos(phase), swing * np.sin(carrier)) + np.outer(
        amp * np.sin(phase), swing * np.cos(carrier)
    )


def _blinks(rng: np.random.Generator, duration: float, sfreq: float, n_times: int) -> tuple[np.ndarray, np.ndarray]:
    """Blink potentials (14, n_times) volts and blink onsets (s)."""
    onsets = _renewal(rng, 0.0, duration - 0.5, rate_per_min=15.0, refractory=1.0)
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
    noise = _colored_noise(rng, n_ch, n_times, sfreq, _slow)
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


# --------------------------------------------------------------------------- ECG


def _ecg(
    rng: np.random.Generator, params: _Subject, timeline: _Timeline, a_seg: np.ndarray, config: SyntheticConfig
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Two ECG leads in volts, (2, n_times), and per-segment true heart rate mean and sd (bpm)."""
    sfreq = config.ecg_sfreq
    seg_ids = _segment_ids(timeline, sfreq)
    n_times = seg_ids.size
    n_trials = (len(timeline.starts) - 2) // 2
    gain = params.autonomic_gain
    # Offsets shared by a trial's baseline and stimulus (removed by baseline correction), and
    # stimulus-specific ones unrelated to arousal (orienting, posture), which are not.
    trial_offset = np.concatenate([[0.0], np.repeat(rng.normal(0.0, 1.5, n_trials), 2), [0.0]])
    trial_offset[2 : 2 + 2 * n_trials : 2] += rng.normal(0.0, 4.5, n_trials)
    hr_mean = _profile(
        params.hr_bpm + trial_offset + params.hr_sign * HR_BPM_PER_AROUSAL * gain * a_seg, timeline, sfreq, 3.0
    )
    hrv_sd = _profile(params.hrv_bpm * np.exp(HRV_LN_PER_AROUSAL * gain * a_seg), timeline, sfreq, 3.0)

    def hrv_psd(f: np.ndarray) -> np.ndarray:
        return 0.5 * _gauss(0.1, 0.02)(f) + _gauss(params.resp_hz, 0.02)(f)

    hr = hr_mean + hrv_sd * _colored_noise(rng, 1, n_times, sfreq, hrv_psd)[0]
    hr = np.maximum(hr, 35.0)
    phase = rng.uniform() + np.cumsum(hr) / (60.0 * sfreq)  # beats; R peak at every integer
    since_r, rr = _beat_clock(phase, hr, sfreq)
    templates = [_ecg_template(int(rng.integers(2**31)), ai) for ai in _ECG_WAVES]
    leads = np.stack([g * _place_beats(since_r, rr, tpl) for g, tpl in zip(params.ecg_gain_v, templates)])

    t = np.arange(n_times) / sfreq
    leads += rng.normal(0.0, 8e-6, leads.shape)
    wander = 0.05e-3 * np.sin(2 * np.pi * params.resp_hz * t) + 0.1e-3 * _colored_noise(rng, 1, n_times, sfreq, _slow)
    line = _line_noise(rng, t, 2, (10e-6, 20e-6))
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


def _eda(
    rng: np.random.Generator, params: _Subject, timeline: _Timeline, a_seg: np.ndarray, config: SyntheticConfig
) -> tuple[np.ndarray, np.ndarray]:
    """EDA in siemens, (1, n_times), and the SCR onset count of every segment."""
    sfreq = config.eda_sfreq
    n_times = _n_times(timeline, sfreq)
    gain = params.autonomic_gain
    tonic = _profile(params.scl_us * (1.0 + SCL_FRACTION_PER_AROUSAL * gain * a_seg), timeline, sfreq, 8.0)

    rates = params.scr_rate_per_min * np.exp(SCR_RATE_LN_PER_AROUSAL * gain * a_seg)
    per_segment, last = [], -np.inf
    for start, end, rate in zip(timeline.starts, timeline.ends, rates):  # ~2 n_trials segments
        # The refractory period carries over a segment boundary, so SCRs there stay separate too.
        per_segment.append(_renewal(rng, max(start, last + _SCR_REFRACTORY_S), end, rate, _SCR_REFRACTORY_S))
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
    wander = 0.05 * params.scl_us * _colored_noise(rng, 1, n_times, sfreq, _very_slow)[0]
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
