"""The synthetic cohort: determinism, layout and units, artefacts, and the designed effects.

Effects are measured independently of the generator's code, with Welch
spectra (scipy) and NeuroKit2's processing, on short cohorts so the file runs
in a few seconds.
"""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
import scipy.signal
import scipy.stats
from pydantic import ValidationError

from biosig.datasets import DREAMER_CLIPS, EMOTIV_CHANNELS, SyntheticConfig, make_cohort, make_session
from biosig.errors import ConfigError
from biosig.session import TRIAL_COLUMNS, Session

SMALL = SyntheticConfig(n_subjects=3, n_trials=4, baseline_seconds=12.0, stimulus_seconds=12.0)
# All 18 clips at half length: enough trials to see the effects, quick to generate.
EFFECTS = SyntheticConfig(n_subjects=4, baseline_seconds=30.0, stimulus_seconds=30.0)


def _with(config: SyntheticConfig, **changes) -> SyntheticConfig:
    return SyntheticConfig(**{**config.model_dump(), **changes})


@pytest.fixture(scope="module")
def small_cohort() -> list[Session]:
    return make_cohort(SMALL)


@pytest.fixture(scope="module")
def effect_cohort() -> list[Session]:
    return make_cohort(EFFECTS)


@pytest.fixture(scope="module")
def null_cohort() -> list[Session]:
    """The effect cohort with both effects switched off: the measurements' control."""
    return make_cohort(_with(EFFECTS, valence_effect=0.0, arousal_effect=0.0))


def _segment(raw, onset: float, duration: float, picks=None) -> np.ndarray:
    sfreq = raw.info["sfreq"]
    start = int(round(onset * sfreq))
    return raw.get_data(picks=picks)[:, start : start + int(round(duration * sfreq))]


def _band_change(session: Session, low: float, high: float) -> np.ndarray:
    """ln band power, stimulus minus its baseline, (n_trials, n_channels)."""
    sfreq = session.eeg.info["sfreq"]

    def log_power(x: np.ndarray) -> np.ndarray:
        f, p = scipy.signal.welch(x, sfreq, nperseg=int(2 * sfreq))
        return np.log(p[:, (f >= low) & (f < high)].mean(axis=1))

    return np.array(
        [
            log_power(_segment(session.eeg, t.stimulus_onset, t.stimulus_duration))
            - log_power(_segment(session.eeg, t.baseline_onset, t.baseline_duration))
            for t in session.trials.itertuples()
        ]
    )


def _good(session: Session, names: tuple[str, ...]) -> list[int]:
    return [session.eeg.ch_names.index(c) for c in names if c not in session.info["bad_channels"]]


def _frontal_alpha_asymmetry(session: Session) -> np.ndarray:
    change = _band_change(session, 8.0, 13.0)
    ch = session.eeg.ch_names
    pairs = [(r, l) for r, l in (("F4", "F3"), ("AF4", "AF3")) if not {r, l} & set(session.info["bad_channels"])]
    return np.mean([change[:, ch.index(r)] - change[:, ch.index(l)] for r, l in pairs], axis=0)


def _posterior_alpha(session: Session) -> np.ndarray:
    return _band_change(session, 8.0, 13.0)[:, _good(session, ("O1", "O2", "P7", "P8"))].mean(axis=1)


def _pooled(cohort: list[Session], column: str) -> np.ndarray:
    return np.concatenate([s.trials[column].to_numpy() for s in cohort])


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "changes",
    [
        {"n_subject": 3},
        {"n_subjects": 0},
        {"eeg_sfreq": 64.0},
        {"bad_channel_probability": 1.5},
        {"stimulus_seconds": 1.0},
    ],
)
def test_config_rejects_unknown_keys_and_out_of_range_values(changes: dict) -> None:
    with pytest.raises(ValidationError):
        SyntheticConfig(**changes)


@pytest.mark.parametrize("subject", [-1, SMALL.n_subjects])
def test_subject_outside_the_cohort_is_a_config_error(subject: int) -> None:
    with pytest.raises(ConfigError, match="outside the cohort"):
        make_session(subject, SMALL)


# --------------------------------------------------------------------------- determinism


def _assert_same(a: Session, b: Session) -> None:
    assert a.subject == b.subject
    for name in ("eeg", "ecg", "eda"):
        np.testing.assert_array_equal(getattr(a, name).get_data(), getattr(b, name).get_data())
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert a.info == b.info


def test_subject_alone_equals_subject_in_cohort(small_cohort: list[Session]) -> None:
    _assert_same(make_session(1, SMALL), small_cohort[1])
    _assert_same(make_session(2, SMALL), small_cohort[2])


def test_other_seed_or_subject_gives_other_data(small_cohort: list[Session]) -> None:
    reseeded = make_session(1, _with(SMALL, seed=1))
    for name in ("eeg", "ecg", "eda"):
        assert not np.allclose(getattr(reseeded, name).get_data(), getattr(small_cohort[1], name).get_data())
    assert not np.allclose(small_cohort[0].eeg.get_data(), small_cohort[1].eeg.get_data())


def test_switching_line_noise_off_removes_only_line_noise(small_cohort: list[Session]) -> None:
    quiet = make_session(0, _with(SMALL, line_noise=False))
    removed = small_cohort[0].eeg.get_data() - quiet.eeg.get_data()
    f, p = scipy.signal.welch(removed, SMALL.eeg_sfreq, nperseg=256)
    good = _good(quiet, EMOTIV_CHANNELS)
    assert np.all(f[np.argmax(p[good], axis=1)] == 50.0)
    assert p[good][:, np.abs(f - 50.0) > 2].max() < 1e-6 * p[good].max()
    np.testing.assert_array_equal(small_cohort[0].eda.get_data(), quiet.eda.get_data())
    pd.testing.assert_frame_equal(small_cohort[0].trials, quiet.trials)


# --------------------------------------------------------------------------- layout, units, timing


def test_channels_rates_types_and_montage(small_cohort: list[Session]) -> None:
    for k, s in enumerate(small_cohort):
        assert s.subject == f"S{k + 1:02d}"
        assert tuple(s.eeg.ch_names) == EMOTIV_CHANNELS
        assert set(s.eeg.get_channel_types()) == {"eeg"}
        assert s.eeg.info["sfreq"] == 128.0 and s.eeg.info["line_freq"] == 50.0
        positions = s.eeg.get_montage().get_positions()["ch_pos"]
        assert all(np.isfinite(positions[ch]).all() and np.linalg.norm(positions[ch]) > 0.05 for ch in EMOTIV_CHANNELS)
        assert s.ecg.ch_names == ["ECG1", "ECG2"] and s.ecg.get_channel_types() == ["ecg", "ecg"]
        assert s.ecg.info["sfreq"] == 256.0
        assert s.eda.ch_names == ["EDA"] and s.eda.get_channel_types() == ["gsr"]
        assert s.eda.info["sfreq"] == 64.0
        durations = {raw.n_times / raw.info["sfreq"] for raw in s.modalities().values()}
        assert len(durations) == 1


def test_signals_are_in_si_units(small_cohort: list[Session]) -> None:
    for s in small_cohort:
        eeg_sd = s.eeg.get_data().std(axis=1)[_good(s, EMOTIV_CHANNELS)]
        assert np.all((eeg_sd > 1e-6) & (eeg_sd < 1e-4)), eeg_sd  # volts: tens of µV
        r_peak = np.percentile(s.ecg.get_data(picks="ECG1"), 99.9)
        assert 0.5e-3 < r_peak < 3e-3  # volts: about 1 mV
        eda = s.eda.get_data()
        assert eda.min() > 0.0 and 0.5e-6 < eda.mean() < 20e-6  # siemens: a few µS


def test_trial_table_timing_and_ratings(small_cohort: list[Session]) -> None:
    for s in small_cohort:
        t = s.trials
        assert tuple(t.columns) == TRIAL_COLUMNS
        assert t["trial"].tolist() == list(range(1, SMALL.n_trials + 1))
        np.testing.assert_allclose(t["baseline_duration"], SMALL.baseline_seconds)
        np.testing.assert_allclose(t["stimulus_duration"], SMALL.stimulus_seconds)
        np.testing.assert_allclose(t["stimulus_onset"], t["baseline_onset"] + t["baseline_duration"])
        ends = t["stimulus_onset"] + t["stimulus_duration"]
        np.testing.assert_allclose(t["baseline_onset"].iloc[1:], ends.iloc[:-1])  # back to back
        assert t["baseline_onset"].iloc[0] > 0 and ends.iloc[-1] < s.eeg.n_times / s.eeg.info["sfreq"]
        for target in ("valence", "arousal", "dominance"):
            assert pd.api.types.is_integer_dtype(t[target]) and t[target].between(1, 5).all()
        expected = [(f"baseline/T{n:02d}", f"stimulus/T{n:02d}") for n in t["trial"]]
        for raw in s.modalities().values():
            assert list(raw.annotations.description) == [d for pair in expected for d in pair]
            np.testing.assert_allclose(raw.annotations.onset[1::2], t["stimulus_onset"])


def test_clips_cycle_beyond_eighteen_trials() -> None:
    config = SyntheticConfig(n_subjects=1, n_trials=20, baseline_seconds=4.0, stimulus_seconds=4.0)
    session = make_session(0, config)
    assert session.n_trials == 20
    assert session.info["clip_emotion"][18:] == [DREAMER_CLIPS[0][0], DREAMER_CLIPS[1][0]]


def test_ratings_follow_the_latent_state_with_noise(effect_cohort: list[Session]) -> None:
    for target in ("valence", "arousal"):
        ratings = _pooled(effect_cohort, target)
        latent = np.concatenate([s.info[f"latent_{target}"] for s in effect_cohort])
        assert np.all(np.abs(ratings - latent) <= 1.5)
        assert 0.8 < np.corrcoef(ratings, latent)[0, 1] < 0.995  # learnable, not a copy
        assert 0.25 < np.mean(ratings > 3) < 0.75  # both binary classes are well represented


# --------------------------------------------------------------------------- designed effects


def _correlation(measure, cohort: list[Session], target: str) -> tuple[float, float]:
    """Spearman correlation and its p-value, over all trials of the cohort, of a per-trial measure
    with the latent state that drives the physiology (the rating adds the subject's response
    style and reporting noise; that ratings are learnable is tested on the pipeline in test_run)."""
    measures = np.concatenate([measure(s) for s in cohort])
    latent = np.concatenate([s.info[f"latent_{target}"] for s in cohort])
    result = scipy.stats.spearmanr(measures, latent)
    return float(result.statistic), float(result.pvalue)


def test_frontal_alpha_asymmetry_rises_with_valence(effect_cohort: list[Session], null_cohort: list[Session]) -> None:
    rho, p = _correlation(_frontal_alpha_asymmetry, effect_cohort, "valence")
    assert rho > 0.4 and p < 1e-4
    rho_null, _ = _correlation(_frontal_alpha_asymmetry, null_cohort, "valence")
    assert abs(rho_null) < 0.25


def test_posterior_alpha_falls_with_arousal(effect_cohort: list[Session], null_cohort: list[Session]) -> None:
    rho, p = _correlation(_posterior_alpha, effect_cohort, "arousal")
    assert rho < -0.25 and p < 0.01
    rho_null, _ = _correlation(_posterior_alpha, null_cohort, "arousal")
    assert abs(rho_null) < 0.25


def test_ecg_heart_rate_matches_truth_and_rises_with_arousal(effect_cohort: list[Session]) -> None:
    session = effect_cohort[0]
    sfreq = session.ecg.info["sfreq"]
    for t, true_hr in list(zip(session.trials.itertuples(), session.info["true_hr_bpm"]))[:6]:
        lead = _segment(session.ecg, t.stimulus_onset, t.stimulus_duration, picks="ECG1")[0]
        signals, _ = nk.ecg_process(lead, sampling_rate=sfreq)
        assert abs(signals["ECG_Rate"].mean() - true_hr) < 2.0
    # Decelerating subjects (hr_sign -1) are part of the design: their change is mirrored.
    change = np.concatenate([
        s.info["effect_gains"]["hr_sign"] * np.subtract(s.info["true_hr_bpm"], s.info["true_hr_baseline_bpm"])
        for s in effect_cohort
    ])
    latent = np.concatenate([s.info["latent_arousal"] for s in effect_cohort])
    assert scipy.stats.spearmanr(change, latent)[0] > 0.5
    leads = session.ecg.get_data()
    assert 0.8 < np.corrcoef(leads)[0, 1] < 0.999  # second lead: related, not a copy


def test_eda_responses_are_more_frequent_in_high_arousal_trials(effect_cohort: list[Session]) -> None:
    counts, truth = [], []
    for s in effect_cohort:
        sfreq = s.eda.info["sfreq"]
        # Whole recording: NeuroKit2's relative amplitude threshold counts noise in SCR-free segments.
        signals, _ = nk.eda_process(s.eda.get_data()[0] * 1e6, sampling_rate=sfreq)
        peaks = np.flatnonzero(signals["SCR_Peaks"].to_numpy()) / sfreq
        starts, ends = s.trials["stimulus_onset"], s.trials["stimulus_onset"] + s.trials["stimulus_duration"]
        counts += [np.sum((peaks >= a) & (peaks < b)) for a, b in zip(starts, ends)]
        truth += s.info["true_scr_count"]
    counts = np.array(counts)
    arousal = _pooled(effect_cohort, "arousal")
    assert counts[arousal > 3].mean() > counts[arousal < 3].mean() + 0.3
    assert scipy.stats.spearmanr(counts, truth)[0] > 0.6


# --------------------------------------------------------------------------- artefacts


def test_line_noise_peak_at_50_hz(small_cohort: list[Session]) -> None:
    quiet = make_session(0, _with(SMALL, line_noise=False))
    for session, present in ((small_cohort[0], True), (quiet, False)):
        f, p = scipy.signal.welch(session.eeg.get_data(picks=_good(session, EMOTIV_CHANNELS)), 128.0, nperseg=256)
        neighbours = np.median(p[:, (np.abs(f - 50.0) > 2) & (np.abs(f - 50.0) < 10)], axis=1)
        ratio = p[:, f == 50.0][:, 0] / neighbours
        if present:
            assert np.median(ratio) > 5 and ratio.min() > 2
        else:
            assert ratio.max() < 1.5


def test_blinks_dominate_frontal_channels(small_cohort: list[Session]) -> None:
    sos = scipy.signal.butter(4, 1.0, "highpass", fs=128.0, output="sos")
    for s in small_cohort:
        frontal, occipital = _good(s, ("AF3", "AF4")), _good(s, ("O1", "O2"))
        x = scipy.signal.sosfiltfilt(sos, s.eeg.get_data())
        kurtosis = scipy.stats.kurtosis(x, axis=1)
        peak = np.percentile(np.abs(x), 99.9, axis=1)
        assert kurtosis[frontal].min() > 3.0 and np.abs(kurtosis[occipital]).max() < 1.0
        assert peak[frontal].min() > 1.5 * peak[occipital].max()
        rate = len(s.info["blink_onsets_s"]) / (s.eeg.n_times / s.eeg.info["sfreq"]) * 60
        assert 10 < rate < 20


def test_default_seed_has_recorded_bad_channels() -> None:
    # Bad-channel choices come from their own stream before any length-dependent draw, so short
    # sessions show the default cohort's bad channels; subject 0 at full length checks that.
    short = make_cohort(SyntheticConfig(n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0))
    assert sum(bool(s.info["bad_channels"]) for s in short) >= 1
    assert make_session(0).info["bad_channel_kinds"] == short[0].info["bad_channel_kinds"]
    for s in short:
        sd = s.eeg.get_data().std(axis=1)
        kinds = s.info["bad_channel_kinds"]
        assert list(kinds) == s.info["bad_channels"] and not s.eeg.info["bads"]
        good = [i for i, ch in enumerate(EMOTIV_CHANNELS) if ch not in kinds]
        assert sd[good].min() > 1e-6
        for ch, kind in kinds.items():
            i = EMOTIV_CHANNELS.index(ch)
            assert sd[i] < 1e-7 if kind == "flat" else sd[i] > 3 * np.median(sd[good])


@pytest.mark.parametrize("probability, expected", [(0.0, 0), (1.0, 3)])
def test_bad_channel_probability_bounds(probability: float, expected: int) -> None:
    config = SyntheticConfig(
        n_subjects=3, n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0, bad_channel_probability=probability
    )
    assert sum(len(s.info["bad_channels"]) for s in make_cohort(config)) == expected
