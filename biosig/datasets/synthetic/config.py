"""Settings of the synthetic cohort, its channel and clip tables, designed effect sizes, per-subject constants.

The generative model these numbers parameterise is documented in
:mod:`biosig.datasets.synthetic`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

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
class SubjectParams:
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
