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

The package is split by responsibility: :mod:`.config` (settings, channel
tables, designed effect sizes), :mod:`.subjects` (per-subject constants,
timeline, ratings), :mod:`.signals` (shared noise and timing helpers),
:mod:`.eeg` (EEG and its artefacts), :mod:`.peripheral` (ECG and EDA) and
:mod:`.cohort` (assembling sessions).
"""

from biosig.datasets.synthetic.cohort import make_cohort, make_session
from biosig.datasets.synthetic.config import (
    ALPHA_AROUSAL_LN,
    BETA_AROUSAL_LN,
    DREAMER_CLIPS,
    ECG_CHANNELS,
    EDA_CHANNELS,
    EMOTIV_CHANNELS,
    FAA_LN,
    GAMMA_AROUSAL_LN,
    HR_BPM_PER_AROUSAL,
    HR_DECELERATOR_PROBABILITY,
    HRV_LN_PER_AROUSAL,
    IDIOSYNCRATIC_AROUSAL_LN,
    IDIOSYNCRATIC_VALENCE_LN,
    LINE_FREQ,
    REPORT_BIAS_SD,
    SCL_FRACTION_PER_AROUSAL,
    SCR_RATE_LN_PER_AROUSAL,
    SyntheticConfig,
)

__all__ = [
    "ALPHA_AROUSAL_LN",
    "BETA_AROUSAL_LN",
    "DREAMER_CLIPS",
    "ECG_CHANNELS",
    "EDA_CHANNELS",
    "EMOTIV_CHANNELS",
    "FAA_LN",
    "GAMMA_AROUSAL_LN",
    "HRV_LN_PER_AROUSAL",
    "HR_BPM_PER_AROUSAL",
    "HR_DECELERATOR_PROBABILITY",
    "IDIOSYNCRATIC_AROUSAL_LN",
    "IDIOSYNCRATIC_VALENCE_LN",
    "LINE_FREQ",
    "REPORT_BIAS_SD",
    "SCL_FRACTION_PER_AROUSAL",
    "SCR_RATE_LN_PER_AROUSAL",
    "SyntheticConfig",
    "make_cohort",
    "make_session",
]
