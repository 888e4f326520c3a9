"""DREAMER (Katsigiannis & Ramzan 2018; Zenodo record 546113): ``DREAMER.mat`` -> labelled sessions.

The dataset
-----------
23 subjects each watched 18 film clips. Before every clip a 61-s neutral
baseline was recorded; after it the subject rated valence, arousal and
dominance on the self-assessment manikin, integers **1-5**. EEG: Emotiv EPOC,
14 channels at **128 Hz**, order :data:`EEG_CHANNELS` (AF3, F7, F3, FC5, T7, P7,
O1, O2, P8, T8, FC6, F4, F8, AF4). ECG: Shimmer, 2 leads at **256 Hz**.
Target emotions of the clips: :data:`CLIP_EMOTIONS`.

File structure (MATLAB v5, read with :func:`scipy.io.loadmat`, which never
executes code): one struct ``DREAMER`` with fields ``Data`` (1 x 23 cell of
1 x 1 structs), ``EEG_SamplingRate`` (128), ``ECG_SamplingRate`` (256),
``EEG_Electrodes`` (14 names), ``noOfSubjects`` (23), ``noOfVideoSequences``
(18), ``Disclaimer``, ``Provider``, ``Version``, ``Acknowledgement``.
``Data{s}`` has ``Age``, ``Gender``, ``EEG``, ``ECG``, ``ScoreValence``,
``ScoreArousal``, ``ScoreDominance`` (18 x 1 each). ``EEG.baseline{j}`` is
7808 x 14 (61 s, samples x channels), ``EEG.stimuli{j}`` n_j x 14 (the clip,
65-393 s); ``ECG`` has the same layout with 2 columns. With scipy's default
loader: ``m['DREAMER'][0,0]['Data'][0,s]['EEG'][0,0]['stimuli'][0,0][j,0]``.
A v7.3 (HDF5) file is refused with a :class:`~biosig.errors.DataError` naming
the version (the published file is v5; re-save with ``save -v7``).

What the adapter builds
-----------------------
One :class:`~biosig.session.Session` per subject (``"S01"`` ... ``"S23"``):
trial *j*'s baseline and then its clip, for j = 1..18 back to back, as one
continuous ``mne.io.Raw`` per modality starting at t = 0 s (baseline of trial
1). The trial table holds the onsets/durations in seconds (from the EEG
sample counts) and the native 1-5 ratings; trial annotations
``baseline/Tjj`` / ``stimulus/Tjj`` are set on every Raw.
``info["rating_scale"] = (1, 5)``; binarisation is left to the evaluation
(the field's usual cut, and this project's default ``evaluation.threshold``,
is ``rating > 3``, i.e. 4-5 high; :data:`BINARY_THRESHOLD`).

Units. DREAMER stores Emotiv's EEG values, which Emotiv documents as
microvolts ("one emotiv unit is almost exactly one microvolt") on a DC level
of about 4100-4200 µV. The adapter multiplies by :data:`EEG_UNITS_TO_VOLTS`
(1e-6) and keeps the DC level: a high-pass (preprocessing's band-pass)
removes it; whether DREAMER.mat still contains it is UNVERIFIED. The ECG
units are not documented (UNVERIFIED; likely Shimmer's calibrated values);
they are scaled by :data:`ECG_UNITS_TO_VOLTS` (1e-6) as well, which only
matters for amplitudes, not for heart-rate features. The ECG is placed on the
EEG's clock: each ECG segment starts at its EEG segment's onset; if its
length differs from the EEG segment's duration it is cut or padded with NaN
and ``info["ecg_length_mismatch"]`` lists the segments.

Laziness. ``DREAMER`` is a single MATLAB variable, which scipy reads whole
(0.92 GB for a synthetic cohort of DREAMER's size with 60-s clips; the real
clips are 65-393 s, so the real file holds more). Sessions are then built
and yielded one subject at a time, and each subject's arrays are released
once its session is built, so memory falls as the iteration proceeds.

TorchEEG's ``DREAMERDataset`` (defaults: 1-s chunks from stimulus sample 0,
the 61-s baseline averaged into one 1-s template) and HiSTN (last 60 s of the
clip, z-scored with the middle 10 s of the baseline) are both computable from
these sessions (see the project's field notes, section 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
import scipy.io
from scipy.io.matlab import MatReadError

from biosig.datasets.mat_elements import MatElement, struct_index
from biosig.errors import DataError
from biosig.montage import standard_montage
from biosig.session import TRIAL_COLUMNS, Session, trial_annotations

#: DREAMER's 14 Emotiv EEG channels, in the file's column order.
EEG_CHANNELS: tuple[str, ...] = (
    "AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4",
)  # fmt: skip
#: The two ECG leads, in the file's column order.
ECG_CHANNELS: tuple[str, ...] = ("ECG1", "ECG2")
#: Target emotion of the 18 clips, in presentation order.
CLIP_EMOTIONS: tuple[str, ...] = (
    "calm", "surprise", "amusement", "fear", "excitement", "disgust", "happiness", "anger", "sadness",
    "disgust", "calm", "amusement", "happiness", "anger", "fear", "excitement", "sadness", "surprise",
)  # fmt: skip
EEG_UNITS_TO_VOLTS = 1e-6  # Emotiv units are microvolts
ECG_UNITS_TO_VOLTS = 1e-6  # UNVERIFIED (module docstring)
RATING_SCALE: tuple[int, int] = (1, 5)
BINARY_THRESHOLD = 3.0  # high = rating > 3
_SCORES = {"valence": "ScoreValence", "arousal": "ScoreArousal", "dominance": "ScoreDominance"}


def load_dreamer(path: str | Path, subjects: Iterable[int] | None = None) -> Iterator[Session]:
    """Read ``DREAMER.mat`` into one labelled session per subject, lazily.

    The file and its top-level fields are checked at once; each subject's
    fields when its session is built.

    Parameters
    ----------
    path
        The ``DREAMER.mat`` file (MATLAB v5).
    subjects
        1-based subject numbers to read (``[1, 5]`` gives ``"S01"`` and
        ``"S05"``), in that order; all subjects when None.

    Returns
    -------
    iterator of Session
        EEG (14 channels, volts, 128 Hz, template 10-05 montage), ECG (2 leads,
        volts, 256 Hz), the trial table (baseline + clip per trial, ratings
        1-5) and ``info`` (``source``, ``file``, ``subject_index``, ``age``,
        ``gender``, ``clip_emotion``, ``rating_scale``, ``binary_threshold``,
        unit factors, ``ecg_length_mismatch``).

    Raises
    ------
    DataError
        Naming the file, subject and field: missing file or field, MATLAB
        v7.3, wrong electrode list, segments of the wrong shape or count,
        ratings missing, non-numeric or outside 1-5, subjects not in the file.
    """
    path = Path(path)
    top = _indexed_struct(path)
    if top is None:
        top = _read_struct(path)
    data = _field(top, "Data", path, "DREAMER")
    if not (isinstance(data, np.ndarray) and data.dtype == object and data.size):
        raise DataError(f"{path}: DREAMER.Data must be a non-empty cell array of subject structs")
    electrodes = [
        str(_text(name))
        for name in _cell(_field(top, "EEG_Electrodes", path, "DREAMER"), path, "DREAMER.EEG_Electrodes")
    ]
    if tuple(e.upper() for e in electrodes) != tuple(c.upper() for c in EEG_CHANNELS):
        raise DataError(
            f"{path}: DREAMER.EEG_Electrodes has {len(electrodes)} channels {electrodes}; "
            f"DREAMER's are the 14 Emotiv channels {list(EEG_CHANNELS)}"
        )
    rates = {
        key: _positive_number(_field(top, field, path, "DREAMER"), path, f"DREAMER.{field}")
        for key, field in (("eeg", "EEG_SamplingRate"), ("ecg", "ECG_SamplingRate"))
    }
    n_subjects = data.size
    chosen = list(range(1, n_subjects + 1)) if subjects is None else [int(s) for s in subjects]
    outside = [s for s in chosen if not 1 <= s <= n_subjects]
    if outside:
        raise DataError(f"{path}: subjects {outside} are not in the file, which has subjects 1..{n_subjects}")
    if len(set(chosen)) != len(chosen):
        raise DataError(f"{path}: subjects {chosen} repeat a subject")
    return _sessions(path, data.reshape(-1, order="F"), chosen, rates)


def _sessions(path: Path, cells: np.ndarray, chosen: list[int], rates: dict[str, float]) -> Iterator[Session]:
    for index in chosen:
        cell = cells[index - 1]
        if isinstance(cell, MatElement):
            try:
                cell = cell.read()
            except (ValueError, TypeError, OSError, EOFError, MatReadError) as exc:
                raise DataError(f"{path}: subject S{index:02d}: DREAMER.Data{{{index}}} cannot be read ({exc})") from None
        session = _subject_session(path, cell, index, rates)
        cells[index - 1] = None  # release this subject's arrays (see module docstring)
        yield session


def _subject_session(path: Path, cell: Any, index: int, rates: dict[str, float]) -> Session:
    subject = f"S{index:02d}"
    where = f"DREAMER.Data{{{index}}}"
    record = _unwrap(cell)
    if not _is_struct(record):
        raise DataError(f"{path}: subject {subject}: {where} is not a struct")
    segments = {}
    for key, n_channels in (("EEG", len(EEG_CHANNELS)), ("ECG", len(ECG_CHANNELS))):
        modality = _field(record, key, path, where, subject)
        segments[key] = {
            part: _segments(
                _field(modality, part, path, f"{where}.{key}", subject),
                n_channels,
                path,
                f"{where}.{key}.{part}",
                subject,
            )
            for part in ("baseline", "stimuli")
        }
    n_trials = len(segments["EEG"]["stimuli"])
    for key, parts in segments.items():
        for part, arrays in parts.items():
            if len(arrays) != n_trials:
                raise DataError(
                    f"{path}: subject {subject}: {where}.{key}.{part} has {len(arrays)} trials but "
                    f"{where}.EEG.stimuli has {n_trials}"
                )
    ratings = {
        target: _scores(_field(record, field, path, where, subject), n_trials, path, f"{where}.{field}", subject)
        for target, field in _SCORES.items()
    }
    eeg_sfreq, ecg_sfreq = rates["eeg"], rates["ecg"]
    base_s = np.array([a.shape[0] for a in segments["EEG"]["baseline"]]) / eeg_sfreq
    stim_s = np.array([a.shape[0] for a in segments["EEG"]["stimuli"]]) / eeg_sfreq
    empty = np.flatnonzero((base_s <= 0) | (stim_s <= 0)) + 1
    if empty.size:
        raise DataError(f"{path}: subject {subject}: trials {empty.tolist()} have an empty EEG baseline or stimulus")
    base_on = np.concatenate([[0.0], np.cumsum(base_s + stim_s)[:-1]])
    trials = pd.DataFrame(
        {
            "trial": np.arange(1, n_trials + 1),
            "baseline_onset": base_on,
            "baseline_duration": base_s,
            "stimulus_onset": base_on + base_s,
            "stimulus_duration": stim_s,
            **ratings,
        },
        columns=list(TRIAL_COLUMNS),
    )
    order = [(part, j) for j in range(n_trials) for part in ("baseline", "stimuli")]
    eeg = np.concatenate([segments["EEG"][part][j].T for part, j in order], axis=1) * EEG_UNITS_TO_VOLTS
    onsets = np.ravel(np.column_stack([trials["baseline_onset"], trials["stimulus_onset"]]))
    durations = np.ravel(np.column_stack([base_s, stim_s]))
    ecg, mismatch = _on_clock(
        [segments["ECG"][part][j] for part, j in order],
        onsets,
        durations,
        ecg_sfreq,
        [(j + 1, part) for part, j in order],
    )
    annotations = trial_annotations(trials)
    eeg_raw = _raw(eeg, EEG_CHANNELS, "eeg", eeg_sfreq, annotations)
    eeg_raw.set_montage(standard_montage(), verbose="error")
    ecg_raw = _raw(ecg * ECG_UNITS_TO_VOLTS, ECG_CHANNELS, "ecg", ecg_sfreq, annotations)
    info: dict[str, Any] = {
        "source": "DREAMER",
        "file": str(path),
        "subject_index": index,
        "age": _optional_text(record, "Age"),
        "gender": _optional_text(record, "Gender"),
        "clip_emotion": list(CLIP_EMOTIONS) if n_trials == len(CLIP_EMOTIONS) else None,
        "rating_scale": RATING_SCALE,
        "binary_threshold": BINARY_THRESHOLD,
        "eeg_units_to_volts": EEG_UNITS_TO_VOLTS,
        "ecg_units_to_volts": ECG_UNITS_TO_VOLTS,
        "ecg_length_mismatch": mismatch,
    }
    return Session(subject=subject, eeg=eeg_raw, ecg=ecg_raw, trials=trials, info=info)


def _on_clock(
    segments: list[np.ndarray], onsets: np.ndarray, durations: np.ndarray, sfreq: float, names: list[tuple[int, str]]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Place ``(n_samples, n_channels)`` segments at given onsets; NaN where a segment falls short."""
    n_total = int(round((onsets[-1] + durations[-1]) * sfreq))
    out = np.full((segments[0].shape[1], n_total), np.nan)
    mismatch = []
    for seg, onset, duration, (trial, part) in zip(segments, onsets, durations, names):
        first, n = int(round(onset * sfreq)), int(round(duration * sfreq))
        m = min(n, seg.shape[0])
        out[:, first : first + m] = seg[:m].T
        if seg.shape[0] != n:
            mismatch.append({"trial": trial, "segment": part, "eeg_s": float(duration), "ecg_s": seg.shape[0] / sfreq})
    return out, mismatch


def _raw(
    data: np.ndarray, names: tuple[str, ...], ch_type: str, sfreq: float, annotations: mne.Annotations
) -> mne.io.RawArray:
    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, ch_type), verbose="error")
    raw.set_annotations(annotations)
    return raw


# --------------------------------------------------------------------------- MATLAB struct access


def _read_struct(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        mat = scipy.io.loadmat(path, variable_names=["DREAMER"])
    except NotImplementedError:
        raise DataError(
            f"{path}: is a MATLAB v7.3 (HDF5) file; DREAMER.mat is read as MATLAB v5 "
            "(re-save it in MATLAB with save(..., '-v7'))"
        ) from None
    except (MatReadError, ValueError, TypeError, OSError, IndexError, KeyError, EOFError) as exc:
        # scipy's parser fails with any of these on a corrupt, empty or foreign file (MatReadError derives
        # from Exception only, so it is listed on its own).
        raise DataError(f"{path}: not a readable MATLAB v5 file ({type(exc).__name__}: {exc})") from None
    if "DREAMER" not in mat:
        raise DataError(f"{path}: has no variable 'DREAMER' (the DREAMER.mat struct)")
    top = _unwrap(mat["DREAMER"])
    if not _is_struct(top):
        raise DataError(f"{path}: the variable 'DREAMER' is not a struct")
    return top


def _indexed_struct(path: Path) -> Any:
    """The ``DREAMER`` struct with every field but ``Data`` read, ``Data``'s subjects left in the file.

    ``Data`` is an object array of :class:`~biosig.datasets.mat_elements.MatElement`
    (one per subject, read when its session is built), so asking for one
    subject reads that subject's bytes only. None when the file is not an
    uncompressed little-endian v5 file with ``Data`` a cell (then it is read whole).
    """
    index = struct_index(path, "DREAMER")
    if index is None or "Data" not in index.fields:
        return None
    cells = index.cell_elements("Data")
    if cells is None:
        return None
    dims, elements = cells
    data = np.empty(len(elements), dtype=object)
    data[:] = elements
    values = {
        name: data.reshape(dims, order="F") if name == "Data" else element.read()
        for name, element in index.fields.items()
    }
    record = np.empty(1, dtype=[(name, object) for name in values])
    for name, value in values.items():
        record[name][0] = value
    return record[0]


def _unwrap(value: Any) -> Any:
    """A 1 x 1 struct array as its record, so its fields read as ``record[name]``; anything else as is."""
    if isinstance(value, np.ndarray) and value.dtype.names is not None and value.size == 1:
        return value.reshape(-1)[0]
    return value


def _is_struct(value: Any) -> bool:
    return isinstance(value, (np.void, np.ndarray)) and value.dtype.names is not None


def _field(struct: Any, name: str, path: Path, where: str, subject: str | None = None) -> Any:
    prefix = f"{path}: subject {subject}: " if subject else f"{path}: "
    if not _is_struct(struct):
        raise DataError(f"{prefix}{where} is not a struct, so it has no field {name!r}")
    if name not in struct.dtype.names:
        raise DataError(f"{prefix}{where} lacks the field {name!r} (it has {list(struct.dtype.names)})")
    return _unwrap(struct[name])


def _cell(value: Any, path: Path, where: str, subject: str | None = None) -> list[Any]:
    if not (isinstance(value, np.ndarray) and value.dtype == object):
        prefix = f"subject {subject}: " if subject else ""
        raise DataError(f"{path}: {prefix}{where} is not a cell array")
    return [_unwrap(item) for item in value.reshape(-1, order="F")]


def _segments(value: Any, n_channels: int, path: Path, where: str, subject: str) -> list[np.ndarray]:
    """A cell of ``(n_samples, n_channels)`` numeric arrays, checked."""
    arrays = []
    for j, item in enumerate(_cell(value, path, where, subject), start=1):
        if not (isinstance(item, np.ndarray) and item.ndim == 2 and np.issubdtype(item.dtype, np.number)):
            shape = getattr(item, "shape", None)
            raise DataError(f"{path}: subject {subject}: {where}{{{j}}} is not a numeric matrix (shape {shape})")
        if item.shape[1] != n_channels:
            raise DataError(
                f"{path}: subject {subject}: {where}{{{j}}} has shape {item.shape}; expected "
                f"(n_samples, {n_channels}) with {n_channels} channels as columns"
            )
        arrays.append(np.asarray(item, dtype=float))
    return arrays


def _scores(value: Any, n_trials: int, path: Path, where: str, subject: str) -> np.ndarray:
    scores = np.asarray(value)
    if not np.issubdtype(scores.dtype, np.number):
        raise DataError(f"{path}: subject {subject}: {where} is not numeric")
    scores = scores.astype(float).reshape(-1)
    if scores.size != n_trials:
        raise DataError(f"{path}: subject {subject}: {where} has {scores.size} ratings for {n_trials} trials")
    low, high = RATING_SCALE
    bad = np.flatnonzero(~np.isfinite(scores) | (scores < low) | (scores > high))
    if bad.size:
        raise DataError(
            f"{path}: subject {subject}: {where} is missing or outside {low}-{high} for trials "
            f"{(bad + 1).tolist()} (values {scores[bad].tolist()})"
        )
    return scores


def _positive_number(value: Any, path: Path, where: str) -> float:
    array = np.asarray(value)
    if array.size != 1 or not np.issubdtype(array.dtype, np.number) or not float(array.reshape(-1)[0]) > 0:
        raise DataError(f"{path}: {where} must be a positive number, got {value!r}")
    return float(array.reshape(-1)[0])


def _text(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind == "U":
        return "".join(array.reshape(-1).tolist())
    return " ".join(str(v) for v in array.reshape(-1).tolist())


def _optional_text(record: Any, name: str) -> str | None:
    return _text(_unwrap(record[name])) if name in record.dtype.names else None
