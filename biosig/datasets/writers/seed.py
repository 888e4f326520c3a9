"""SEED fixture writers: ``Preprocessed_EEG/{subject}_{yyyymmdd}.mat`` session files and ``label.mat``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.io

from biosig.datasets import seed as _seed


def random_seed_trials(
    seed: int, n_trials: int = 15, seconds: Sequence[float] | float = 4.0, sfreq: float = 200.0
) -> list[np.ndarray]:
    """SEED trials of seeded random EEG, each ``(62, n_times)`` float64 in µV.

    Parameters
    ----------
    seed
        Seed of the random generator.
    n_trials
        Clips (15 in SEED).
    seconds
        Length of every clip or one per clip, s (about 240 in SEED).
    sfreq
        Sampling rate, Hz (200 in SEED's preprocessed files).
    """
    rng = np.random.default_rng(seed)
    lengths = np.broadcast_to(np.asarray(seconds, float), (n_trials,))
    return [20.0 * rng.standard_normal((len(_seed.CHANNELS), int(round(s * sfreq)))) for s in lengths]


def write_seed_mat(
    trials: Sequence[np.ndarray] | Mapping[str, np.ndarray], path: str | Path, initials: str = "djc"
) -> Path:
    """Write a SEED session file ``{subject}_{yyyymmdd}.mat`` (MATLAB v5).

    Parameters
    ----------
    trials
        The 15 ``(62, n_times)`` arrays (stored as ``{initials}_eeg1`` ...
        ``{initials}_eeg15``), or a mapping of variable name to array written
        as given.
    path
        Destination, e.g. ``Preprocessed_EEG/1_20131027.mat``.
    initials
        The subject's initials that prefix the variable names.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if not isinstance(trials, Mapping):
        trials = {f"{initials}_eeg{k + 1}": array for k, array in enumerate(trials)}
    scipy.io.savemat(path, dict(trials))
    return path


def write_seed_label_mat(path: str | Path, labels: Sequence[int] = _seed.LABELS) -> Path:
    """Write SEED's ``label.mat``: variable ``label``, shape ``(1, 15)``, values -1/0/1."""
    path = Path(path)
    scipy.io.savemat(path, {"label": np.asarray(labels, dtype=np.int16)[None, :]})
    return path
