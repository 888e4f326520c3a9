"""DREAMER fixture writer: ``DREAMER.mat`` (MATLAB v5, one struct) from sessions or seeded random data.

Structure and memory use in :mod:`biosig.datasets.writers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from biosig.datasets import dreamer as _dreamer
from biosig.errors import DataError
from biosig.session import Session


def dreamer_subject_from_session(session: Session, age: str = "25", gender: str = "female") -> dict[str, Any]:
    """One subject's ``Data{s}`` struct (as dicts and arrays) from a DREAMER-like session.

    Each trial's baseline and stimulus segments are cut from the session's
    EEG and ECG at the trial table's onsets and durations and converted to
    the file's units (volts x 1e6, see :data:`biosig.datasets.dreamer.EEG_UNITS_TO_VOLTS`).

    Parameters
    ----------
    session
        Session with 14-channel EEG (DREAMER's channel order), 2-lead ECG and
        integer ratings 1-5.
    age, gender
        Stored as the strings ``Age`` and ``Gender``.

    Returns
    -------
    dict
        ``{"Age", "Gender", "EEG": {"baseline", "stimuli"}, "ECG": {...},
        "ScoreValence", "ScoreArousal", "ScoreDominance"}``; segments are
        ``(n_samples, n_channels)`` float64 arrays.
    """
    if session.ecg is None:
        raise DataError(f"subject {session.subject}: DREAMER needs an ECG recording")
    if tuple(session.eeg.ch_names) != _dreamer.EEG_CHANNELS:
        raise DataError(
            f"subject {session.subject}: EEG channels {session.eeg.ch_names} are not DREAMER's {_dreamer.EEG_CHANNELS}"
        )
    modalities = {}
    for key, raw, scale in (
        ("EEG", session.eeg, 1.0 / _dreamer.EEG_UNITS_TO_VOLTS),
        ("ECG", session.ecg, 1.0 / _dreamer.ECG_UNITS_TO_VOLTS),
    ):
        data, sfreq = raw.get_data(), raw.info["sfreq"]
        segments = {"baseline": [], "stimuli": []}
        for row in session.trials.itertuples(index=False):
            for name, onset, duration in (
                ("baseline", row.baseline_onset, row.baseline_duration),
                ("stimuli", row.stimulus_onset, row.stimulus_duration),
            ):
                first = int(round(onset * sfreq))
                segments[name].append(data[:, first : first + int(round(duration * sfreq))].T * scale)
        modalities[key] = {name: _column_cell(arrays) for name, arrays in segments.items()}
    scores = {
        f"Score{target.capitalize()}": session.trials[target].to_numpy(float)[:, None]
        for target in ("valence", "arousal", "dominance")
    }
    return {"Age": age, "Gender": gender, **modalities, **scores}


def random_dreamer_subject(
    seed: int,
    n_trials: int = 18,
    stimulus_seconds: Sequence[float] | float = 60.0,
    baseline_seconds: float = 61.0,
    eeg_sfreq: float = 128.0,
    ecg_sfreq: float = 256.0,
) -> dict[str, Any]:
    """A subject's ``Data{s}`` struct filled with seeded random data in DREAMER's units.

    EEG is white noise of 10 units (~µV) on Emotiv's DC level of ~4200 units;
    ECG is white noise; scores are integers 1..5.

    Parameters
    ----------
    seed
        Seed of the random generator.
    n_trials
        Clips (18 in DREAMER).
    stimulus_seconds
        Length of every clip, or one length per clip, s.
    baseline_seconds
        Pre-clip baseline, s (61 in DREAMER).
    eeg_sfreq, ecg_sfreq
        Sampling rates, Hz.

    Returns
    -------
    dict
        As :func:`dreamer_subject_from_session`.
    """
    rng = np.random.default_rng(seed)
    lengths = np.broadcast_to(np.asarray(stimulus_seconds, float), (n_trials,))
    out: dict[str, Any] = {"Age": str(int(rng.integers(20, 40))), "Gender": ("male", "female")[int(rng.integers(2))]}
    for key, sfreq, n_channels, level in (("EEG", eeg_sfreq, 14, 4200.0), ("ECG", ecg_sfreq, 2, 0.0)):
        out[key] = {
            "baseline": _column_cell(
                [
                    level + 10.0 * rng.standard_normal((int(round(baseline_seconds * sfreq)), n_channels))
                    for _ in lengths
                ]
            ),
            "stimuli": _column_cell(
                [level + 10.0 * rng.standard_normal((int(round(s * sfreq)), n_channels)) for s in lengths]
            ),
        }
    for name in ("ScoreValence", "ScoreArousal", "ScoreDominance"):
        out[name] = rng.integers(1, 6, (n_trials, 1)).astype(float)
    return out


def dreamer_struct(
    subjects: Iterable[Session | Mapping[str, Any]], eeg_sfreq: float = 128.0, ecg_sfreq: float = 256.0
) -> dict[str, Any]:
    """The top-level ``DREAMER`` struct as nested dicts and object arrays, ready for ``savemat``.

    Parameters
    ----------
    subjects
        Sessions (converted with :func:`dreamer_subject_from_session`) or
        ``Data{s}`` dicts; consumed one at a time.
    eeg_sfreq, ecg_sfreq
        ``EEG_SamplingRate`` and ``ECG_SamplingRate``, Hz (sessions must match).

    Returns
    -------
    dict
        Fields ``Data`` (1 x n_subjects cell), ``EEG_SamplingRate``,
        ``ECG_SamplingRate``, ``EEG_Electrodes`` (14 x 1 cell),
        ``noOfSubjects``, ``noOfVideoSequences`` and the text fields.
    """
    data = []
    for item in subjects:
        if isinstance(item, Session):
            if (item.eeg.info["sfreq"], item.ecg.info["sfreq"] if item.ecg else None) != (eeg_sfreq, ecg_sfreq):
                raise DataError(f"subject {item.subject}: sampling rates differ from {eeg_sfreq}/{ecg_sfreq} Hz")
            item = dreamer_subject_from_session(item)
        data.append(item)
    cell = np.empty((1, len(data)), dtype=object)
    for k, subject in enumerate(data):
        cell[0, k] = subject
    n_videos = len(data[0]["ScoreValence"]) if data else 0
    return {
        "Data": cell,
        "EEG_SamplingRate": float(eeg_sfreq),
        "ECG_SamplingRate": float(ecg_sfreq),
        "EEG_Electrodes": _column_cell(list(_dreamer.EEG_CHANNELS)),
        "noOfSubjects": float(len(data)),
        "noOfVideoSequences": float(n_videos),
        "Disclaimer": "Synthetic test fixture in the structure of DREAMER.mat; not DREAMER data.",
        "Provider": "biosig-affect tests",
        "Version": "1.0.2",
        "Acknowledgement": "Structure after Katsigiannis & Ramzan (2018), Zenodo record 546113.",
    }


def write_dreamer_mat(
    subjects: Iterable[Session | Mapping[str, Any]],
    path: str | Path,
    eeg_sfreq: float = 128.0,
    ecg_sfreq: float = 256.0,
    compress: bool = False,
) -> Path:
    """Write ``DREAMER.mat`` (MATLAB v5) from sessions or ``Data{s}`` dicts.

    Parameters
    ----------
    subjects
        Sessions or dicts (see :func:`dreamer_struct`); a generator keeps the
        memory at the arrays plus one session (module docstring).
    path
        Destination file.
    eeg_sfreq, ecg_sfreq
        Sampling rates written to the file, Hz.
    compress
        zlib-compress the variables (smaller file, much slower).

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    scipy.io.savemat(path, {"DREAMER": dreamer_struct(subjects, eeg_sfreq, ecg_sfreq)}, do_compression=compress)
    return path


def _column_cell(items: Sequence[Any]) -> np.ndarray:
    """A MATLAB n x 1 cell array (object array) of the items."""
    cell = np.empty((len(items), 1), dtype=object)
    for k, item in enumerate(items):
        cell[k, 0] = item
    return cell
