"""SEED (Zheng & Lu 2015, BCMI SJTU): ``Preprocessed_EEG/*.mat`` -> labelled sessions.

The dataset
-----------
15 subjects each took part in 3 sessions about a week apart; in each they
watched the same 15 film clips (about 4 min each, positive / neutral /
negative) with a 15-s hint before and 10-s feedback after every clip (per
the dataset's description page; the hint and feedback are not in the
preprocessed arrays). EEG: 62 channels (ESI NeuroScan), downsampled to
**200 Hz** in the preprocessed files.

File structure (``Preprocessed_EEG/``, MATLAB v5 read with :func:`scipy.io.loadmat`):

* ``label.mat``: variable ``label``, shape 1 x 15, values
  :data:`LABELS` = 1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1
  (1 positive, 0 neutral, -1 negative), the same for every session;
* 45 files ``{subject}_{yyyymmdd}.mat`` (e.g. ``1_20131027.mat``), each with
  15 variables ``{initials}_eeg1`` ... ``{initials}_eeg15`` (e.g.
  ``djc_eeg1``), each 62 x n_times (channels x samples, e.g. 62 x 47001);
  trial *k* is clip *k* and has label ``label[k-1]`` (TorchEEG reads the
  trial number from the variable name's ``eeg<k>`` suffix the same way);
* ``readme.txt``.

Channel order: TorchEEG's ``SEED_CHANNEL_LIST`` (FP1, FPZ, ... CB1, O1, OZ,
O2, CB2), spelled here as in the 10-05 system (``Fp1``, ``Fpz``, ``FCz``...)
so MNE's template montage finds them (:data:`CHANNELS`). ``CB1``/``CB2``
(cerebellar, below O1/O2) have no template position and are left without
one (``info["channels_without_position"]``); interpolating them needs
positions supplied by the user. Units: taken as µV and multiplied by 1e-6
(UNVERIFIED: the readme is not in a stored source).

What :func:`load_seed` builds: one :class:`~biosig.session.Session` per file,
subject ``"S01"`` for ``1_....mat`` (all 3 sessions of a subject share the
id, so leave-one-subject-out keeps a person's sessions together; the date is
``info["session_date"]``). The 15 clips are concatenated back to back from
t = 0 s. Conventions forced by the trial table of :mod:`biosig.session`:

* **valence = the label** (-1, 0, 1), ``info["rating_scale"] = (-1, 1)``;
  SEED rates no arousal or dominance, but the table needs numbers there, so
  both are **0.0** and ``info["unrated_targets"] = ["arousal", "dominance"]``:
  ignore those columns. A binary task is usually positive vs the rest
  (``valence > 0``, ``info["binary_threshold"] = 0.0``); the 3-class task
  uses the label itself.
* **no baseline**: the preprocessed arrays hold no pre-clip rest, but the
  table needs a positive baseline duration, so each trial's baseline is a
  one-sample placeholder at the clip onset (``baseline_onset =
  stimulus_onset``, ``baseline_duration = 1/200 s``). Use baseline
  normalisation ``none``: any baseline window fails loudly (shorter than one
  window) rather than silently normalising with clip data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
import scipy.io
from scipy.io.matlab import MatReadError

from biosig.errors import DataError
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

#: The 62 channels in the files' row order (TorchEEG's SEED_CHANNEL_LIST in 10-05 spelling).
CHANNELS: tuple[str, ...] = (
    "Fp1", "Fpz", "Fp2", "AF3", "AF4", "F7", "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8", "FT7", "FC5",
    "FC3", "FC1", "FCz", "FC2", "FC4", "FC6", "FT8", "T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8",
    "TP7", "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "TP8", "P7", "P5", "P3", "P1", "Pz", "P2", "P4",
    "P6", "P8", "PO7", "PO5", "PO3", "POz", "PO4", "PO6", "PO8", "CB1", "O1", "Oz", "O2", "CB2",
)  # fmt: skip
#: The clips' labels (label.mat), clip 1..15.
LABELS: tuple[int, ...] = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
LABEL_NAMES: dict[int, str] = {1: "positive", 0: "neutral", -1: "negative"}
SFREQ = 200.0
UNITS_TO_VOLTS = 1e-6  # UNVERIFIED (module docstring)
RATING_SCALE: tuple[int, int] = (-1, 1)
BINARY_THRESHOLD = 0.0  # positive = label > 0
_TRIAL_VARIABLE = re.compile(r"(?P<initials>.+)_eeg(?P<trial>\d+)")
_SESSION_FILE = re.compile(r"(?P<subject>\d+)_(?P<date>\d{8})\.mat")


def load_seed(folder: str | Path, subjects: Iterable[int] | None = None) -> Iterator[Session]:
    """Read SEED's ``Preprocessed_EEG`` folder into one session per file, lazily.

    Parameters
    ----------
    folder
        Folder with ``label.mat`` and the ``{subject}_{yyyymmdd}.mat`` files.
    subjects
        Subject numbers (1-15) to read, all their sessions; every file when None.

    Returns
    -------
    iterator of Session
        As :func:`read_seed_mat`, ordered by subject number, then date.

    Raises
    ------
    DataError
        If the folder, ``label.mat`` or a requested subject's files are
        missing (checked at once), or a file's structure is wrong (when read).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: SEED folder not found")
    labels = read_seed_labels(folder / "label.mat")
    files = []
    for p in folder.iterdir():
        match = _SESSION_FILE.fullmatch(p.name)
        if match:
            files.append((int(match["subject"]), match["date"], p))
    files.sort()
    if subjects is not None:
        wanted = [int(s) for s in subjects]
        present = {s for s, _, _ in files}
        missing = [s for s in wanted if s not in present]
        if missing:
            raise DataError(
                f"{folder}: no session files for subjects {missing} (files are named <subject>_<yyyymmdd>.mat)"
            )
        files = [f for f in files if f[0] in wanted]
    if not files:
        raise DataError(f"{folder}: no SEED session files <subject>_<yyyymmdd>.mat")
    return (read_seed_mat(p, labels) for _, _, p in files)


def read_seed_labels(path: str | Path) -> np.ndarray:
    """Read ``label.mat``: the clips' labels as an int array ``(n_clips,)`` with values -1/0/1.

    Raises
    ------
    DataError
        Naming the file: missing, no ``label`` variable, non-numeric or values other than -1/0/1.
    """
    path = Path(path)
    mat = _loadmat(path)
    if "label" not in mat:
        raise DataError(f"{path}: has no variable 'label' (variables: {_variables(mat)})")
    labels = np.asarray(mat["label"])
    if not np.issubdtype(labels.dtype, np.number) or labels.size == 0:
        raise DataError(f"{path}: variable 'label' must be a non-empty numeric 1 x 15 array")
    labels = labels.reshape(-1)
    if not np.isin(labels, list(LABEL_NAMES)).all():
        raise DataError(f"{path}: variable 'label' has values {sorted(set(labels.tolist()))}; SEED's are -1, 0, 1")
    return labels.astype(int)


def read_seed_mat(path: str | Path, labels: np.ndarray | None = None) -> Session:
    """Read one SEED session file ``{subject}_{yyyymmdd}.mat`` into a labelled session.

    Parameters
    ----------
    path
        The session file.
    labels
        The clips' labels, ``(n_clips,)`` (from :func:`read_seed_labels`);
        ``label.mat`` next to the file when None.

    Returns
    -------
    Session
        EEG (62 channels, volts, 200 Hz, template montage except CB1/CB2),
        one trial per clip back to back with the conventions of the module
        docstring (valence = label, arousal = dominance = 0, one-sample
        placeholder baseline), and ``info`` (``source``, ``file``,
        ``session_date``, ``initials``, ``emotion``, ``rating_scale``,
        ``binary_threshold``, ``unrated_targets``, ``baseline``,
        ``channels_without_position``).

    Raises
    ------
    DataError
        Naming the file and variable: no ``*_eeg<k>`` variables, several
        initials, trial numbers not 1..n, an array not 62 x n_times, a trial
        without a label.
    """
    path = Path(path)
    match = _SESSION_FILE.fullmatch(path.name)
    if not match:
        raise DataError(f"{path}: SEED session files are named <subject>_<yyyymmdd>.mat")
    subject = f"S{int(match['subject']):02d}"
    if labels is None:
        labels = read_seed_labels(path.parent / "label.mat")
    labels = np.asarray(labels).reshape(-1)
    mat = _loadmat(path)
    found = {}
    for name in mat:
        var = _TRIAL_VARIABLE.fullmatch(name)
        if var:
            found[name] = (var["initials"], int(var["trial"]))
    if not found:
        raise DataError(
            f"{path}: subject {subject}: no trial variables <initials>_eeg<k> (variables: {_variables(mat)})"
        )
    initials = sorted({i for i, _ in found.values()})
    if len(initials) > 1:
        raise DataError(f"{path}: subject {subject}: trial variables of several subjects {initials}")
    by_trial = {k: name for name, (_, k) in found.items()}
    numbers = sorted(by_trial)
    if numbers != list(range(1, len(numbers) + 1)):
        raise DataError(f"{path}: subject {subject}: trial variables are numbered {numbers}, not 1..{len(numbers)}")
    unlabelled = [k for k in numbers if k > labels.size]
    if unlabelled:
        raise DataError(f"{path}: subject {subject}: trials {unlabelled} have no label (label.mat has {labels.size})")
    lengths = []
    for k in numbers:
        array = mat[by_trial[k]]
        if not (isinstance(array, np.ndarray) and array.ndim == 2 and np.issubdtype(array.dtype, np.number)):
            raise DataError(f"{path}: subject {subject}: variable {by_trial[k]!r} is not a numeric matrix")
        if array.shape[0] != len(CHANNELS) or array.shape[1] == 0:
            raise DataError(
                f"{path}: subject {subject}: variable {by_trial[k]!r} has shape {array.shape}; expected "
                f"({len(CHANNELS)}, n_times): {len(CHANNELS)} channels as rows"
            )
        lengths.append(array.shape[1])
    starts = np.concatenate([[0], np.cumsum(lengths)])
    trial_labels = labels[: len(numbers)].astype(float)
    trials = pd.DataFrame(
        {
            "trial": numbers,
            "baseline_onset": starts[:-1] / SFREQ,
            "baseline_duration": 1.0 / SFREQ,
            "stimulus_onset": starts[:-1] / SFREQ,
            "stimulus_duration": np.asarray(lengths) / SFREQ,
            "valence": trial_labels,
            "arousal": 0.0,
            "dominance": 0.0,
        },
        columns=list(TRIAL_COLUMNS),
    )
    # Each file array is dropped once copied: a real session file is ~350 MB of float64.
    data = np.empty((len(CHANNELS), starts[-1]))
    for k, first, last in zip(numbers, starts[:-1], starts[1:]):
        data[:, first:last] = mat.pop(by_trial[k]) * UNITS_TO_VOLTS
    eeg = mne.io.RawArray(data, mne.create_info(list(CHANNELS), SFREQ, "eeg"), verbose="error")
    eeg.set_montage(standard_montage(), on_missing="ignore", verbose="error")
    eeg.set_annotations(trial_annotations(trials))
    info: dict[str, Any] = {
        "source": "SEED (Preprocessed_EEG)",
        "file": str(path),
        "session_date": match["date"],
        "initials": initials[0],
        "emotion": [LABEL_NAMES[int(v)] for v in trial_labels],
        "rating_scale": RATING_SCALE,
        "binary_threshold": BINARY_THRESHOLD,
        "unrated_targets": ["arousal", "dominance"],
        "baseline": "none: one-sample placeholder at each clip onset",
        "channels_without_position": ["CB1", "CB2"],
    }
    return Session(subject=subject, eeg=eeg, trials=trials, info=info)


def _loadmat(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return scipy.io.loadmat(path)
    except NotImplementedError:
        raise DataError(f"{path}: is a MATLAB v7.3 (HDF5) file; SEED's files are read as MATLAB v5") from None
    except (MatReadError, ValueError, TypeError, OSError, IndexError, KeyError, EOFError) as exc:
        # scipy's parser fails with any of these on a corrupt, empty or foreign file (MatReadError derives
        # from Exception only, so it is listed on its own).
        raise DataError(f"{path}: not a readable MATLAB v5 file ({type(exc).__name__}: {exc})") from None


def _variables(mat: dict[str, Any]) -> list[str]:
    return sorted(k for k in mat if not k.startswith("__"))
