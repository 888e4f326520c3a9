"""Small recordings built in the tests, independent of the synthetic cohort generator."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import xarray as xr

from biosig.montage import standard_montage

#: The repository's root folder.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The real recordings beside the repository (``../shared/data``, see its README); the
#: ``shared_data`` fixture of ``tests/conftest.py`` hands it to tests and fails loudly when it is missing.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

EMOTIV = ("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4")


def pink_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """1/f noise along the last axis, unit standard deviation."""
    n = shape[-1]
    spec = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=-1)
    return x / x.std(axis=-1, keepdims=True)


def emotiv_raw(seconds: float = 60.0, sfreq: float = 128.0, seed: int = 0, amplitude: float = 10e-6) -> mne.io.RawArray:
    """14-channel Emotiv-layout EEG: spatially mixed pink noise plus a 10 Hz rhythm, volts, montage set."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    sources = pink_noise(rng, (6, n))
    mixing = rng.normal(size=(len(EMOTIV), 6))
    t = np.arange(n) / sfreq
    data = mixing @ sources / 3 + 0.5 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (len(EMOTIV), 1)))
    info = mne.create_info(list(EMOTIV), sfreq, "eeg")
    raw = mne.io.RawArray(data * amplitude, info, verbose="error")
    raw.set_montage(standard_montage(), verbose="error")
    return raw


def trial_grid(n_subjects: int, n_trials: int, per_trial: int) -> tuple[np.ndarray, np.ndarray]:
    """Subject ids (``S01``...) and trial numbers (1..n_trials) of windows, subject by subject, per_trial windows a trial."""
    subjects = np.repeat([f"S{i:02d}" for i in range(1, n_subjects + 1)], n_trials * per_trial)
    trials = np.tile(np.repeat(np.arange(1, n_trials + 1), per_trial), n_subjects)
    return subjects, trials


def feature_windows(
    de: np.ndarray, subjects: np.ndarray, trials: np.ndarray, per_trial: int, **labels: np.ndarray
) -> xr.Dataset:
    """A window-feature dataset as the cohort gives it: ``de`` (window, channel), subject, trial,
    ``t_start`` (0, 1, ... s within each trial) and one variable per label, each of shape (window,)."""
    t_start = np.tile(np.arange(per_trial, dtype=float), len(trials) // per_trial)
    return xr.Dataset({
        "de": (("window", "channel"), de), "subject": ("window", subjects), "trial": ("window", trials),
        "t_start": ("window", t_start), **{name: ("window", values) for name, values in labels.items()},
    })  # fmt: skip
