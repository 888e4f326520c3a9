"""Assembling synthetic sessions: seeded streams per subject, signals, annotations and ground truth.

Model and the keys of ``Session.info`` in :mod:`biosig.datasets.synthetic`.
"""

from __future__ import annotations

import mne
import numpy as np

from biosig.datasets.synthetic.config import (
    DREAMER_CLIPS,
    ECG_CHANNELS,
    EDA_CHANNELS,
    EMOTIV_CHANNELS,
    LINE_FREQ,
    SyntheticConfig,
)
from biosig.datasets.synthetic.eeg import eeg_signals
from biosig.datasets.synthetic.peripheral import ecg_signals, eda_signal
from biosig.datasets.synthetic.subjects import draw_subject, make_timeline, state_segments, trial_table
from biosig.errors import ConfigError
from biosig.montage import standard_montage
from biosig.session import Session, trial_annotations

_STREAMS = ("subject", "ratings", "eeg", "line", "blinks", "drift", "bad", "ecg", "eda")


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
    params = draw_subject(rngs["subject"], config)
    timeline = make_timeline(config)
    trials, latent = trial_table(rngs["ratings"], params, timeline, config)
    v_seg, a_seg = state_segments(latent, timeline, config.n_trials)

    eeg, artefacts = eeg_signals(rngs, params, timeline, v_seg, a_seg, config)
    ecg, hr = ecg_signals(rngs["ecg"], params, timeline, a_seg * config.arousal_effect, config)
    eda, scr = eda_signal(rngs["eda"], params, timeline, a_seg * config.arousal_effect, config)

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


def _raw(data: np.ndarray, names: tuple[str, ...], ch_type: str, sfreq: float) -> mne.io.RawArray:
    info = mne.create_info(list(names), sfreq, ch_type)
    if ch_type in ("eeg", "ecg"):
        info["line_freq"] = LINE_FREQ
    return mne.io.RawArray(data, info, verbose="error")
