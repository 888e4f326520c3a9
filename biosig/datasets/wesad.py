"""WESAD (Schmidt et al. 2018): ``SX/SX.pkl`` -> chest and wrist recordings with condition segments.

The dataset
-----------
15 subjects (S2-S11, S13-S17) wore a chest RespiBAN and a wrist Empatica E4
through a protocol of baseline, stress (Trier Social Stress Test),
amusement and meditation. No EEG. The readme (quoted in public code)
describes ``SX.pkl``, the two devices synchronised by a double-tap pattern:
a Python-2 pickled dict

* ``subject``: ``"SX"``;
* ``signal``: ``{"chest": {...}, "wrist": {...}}``. Chest (RespiBAN), all at
  **700 Hz**: ``ACC`` (n x 3, g), ``ECG`` (n x 1, mV), ``EMG`` (n x 1, mV),
  ``EDA`` (n x 1, µS), ``Temp`` (n x 1, °C), ``Resp`` (n x 1, %). Wrist (E4):
  ``ACC`` (32 Hz, m x 3, 1/64 g), ``BVP`` (64 Hz, photoplethysmograph,
  device units), ``EDA`` (4 Hz, µS), ``TEMP`` (4 Hz, °C);
* ``label``: condition per chest sample (700 Hz, length n): 0 = not defined /
  transient, 1 = baseline, 2 = stress, 3 = amusement, 4 = meditation,
  5/6/7 = to be ignored (:data:`CONDITIONS`).

The chest units above are the readme's conversion formulas' units (ECG/EMG
mV, EDA µS, Resp %); that the pickle already holds converted values, as
public analyses treat it, is UNVERIFIED, as are the array dtypes. The file
is loaded with ``encoding="latin1"`` through :mod:`biosig.io.safe_pickle`.

What the adapter builds
-----------------------
A :class:`~biosig.session.Session` without EEG (``eeg=None``), subject id as
in the file (``"S2"``), every recording starting at t = 0 s (the synchronised
start), in SI units:

* ``ecg``: chest ECG, volts, 700 Hz; ``eda``: chest EDA, siemens (MNE
  ``gsr``), 700 Hz;
* ``extra``: ``"emg"`` (chest, V), ``"temp"`` (chest ``Temp``, °C,
  ``temperature``), ``"resp"`` (chest, %), ``"acc"`` (chest ``ACC_x/y/z``,
  m/s², ``misc``), ``"stim"`` (``label``, the condition code per chest
  sample), and the wrist: ``"bvp"`` (64 Hz, device units, ``bio``),
  ``"wrist_eda"`` (4 Hz, S), ``"wrist_temp"`` (4 Hz, °C), ``"wrist_acc"``
  (32 Hz, m/s²); accelerations in m/s² as the project's E4 reader keeps them;
* an **empty trial table**: WESAD's conditions carry no valence/arousal/
  dominance ratings (its self-reports are in ``SX_quest.csv``, not the
  pickle), so they are events instead: ``info["conditions"]`` (one row per
  contiguous run of labels 1-4: ``condition``, ``name``, ``onset``,
  ``duration`` in s; :func:`condition_table`) mirrored as annotations
  (``baseline``, ``stress``, ``amusement``, ``meditation``) on every Raw.

Wrist durations are not forced to the chest's; ``info["durations_s"]``
lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.io.safe_pickle import ArrayBudget, load_pickle
from biosig.session import Session, empty_trials

CHEST_RATE = 700.0  # Hz, chest signals and labels
#: Wrist signal -> sampling rate (Hz).
WRIST_RATES: dict[str, float] = {"ACC": 32.0, "BVP": 64.0, "EDA": 4.0, "TEMP": 4.0}
#: Protocol condition codes of ``label``; 5, 6, 7 are to be ignored.
CONDITIONS: dict[int, str] = {0: "transient", 1: "baseline", 2: "stress", 3: "amusement", 4: "meditation"}
_IGNORED_CODES = (5, 6, 7)
_G = 9.80665  # m/s² per g
#: Chest signal -> (Session slot, columns, MNE type, factor to SI).
CHEST_SIGNALS: dict[str, tuple[str, int, str, float]] = {
    "ECG": ("ecg", 1, "ecg", 1e-3),  # mV -> V
    "EDA": ("eda", 1, "gsr", 1e-6),  # µS -> S
    "EMG": ("emg", 1, "emg", 1e-3),  # mV -> V
    "Temp": ("temp", 1, "temperature", 1.0),  # °C
    "Resp": ("resp", 1, "resp", 1.0),  # %
    "ACC": ("acc", 3, "misc", _G),  # g -> m/s²
}
#: Wrist signal -> (Session slot, columns, MNE type, factor to SI).
WRIST_SIGNALS: dict[str, tuple[str, int, str, float]] = {
    "ACC": ("wrist_acc", 3, "misc", _G / 64.0),  # 1/64 g -> m/s²
    "BVP": ("bvp", 1, "bio", 1.0),  # device units
    "EDA": ("wrist_eda", 1, "gsr", 1e-6),  # µS -> S
    "TEMP": ("wrist_temp", 1, "temperature", 1.0),  # °C
}
#: Longest recording a pickle may hold, s: the protocol takes about 2 h (UNVERIFIED), this leaves a margin.
MAX_RECORDING_SECONDS = 3 * 3600.0
_CHEST_VALUES_PER_S = CHEST_RATE * (sum(cols for _, cols, _, _ in CHEST_SIGNALS.values()) + 1)  # + label
_WRIST_VALUES_PER_S = sum(WRIST_RATES[name] * cols for name, (_, cols, _, _) in WRIST_SIGNALS.items())
#: Array memory an ``SX.pkl`` may declare: the documented shapes (chest n x 1 or n x 3 at 700 Hz, label n,
#: wrist m x 1 or m x 3 at their rates) over :data:`MAX_RECORDING_SECONDS` at 8 bytes per value. A
#: larger declaration is refused before anything is allocated (biosig.io.safe_pickle).
PICKLE_BUDGET = ArrayBudget(
    max_array_bytes=int(MAX_RECORDING_SECONDS * CHEST_RATE * 3 * 8),
    max_total_bytes=int(MAX_RECORDING_SECONDS * (_CHEST_VALUES_PER_S + _WRIST_VALUES_PER_S) * 8),
    what=f"WESAD: chest and wrist signals of at most {MAX_RECORDING_SECONDS / 3600:g} h",
)


def load_wesad(folder: str | Path, subjects: Iterable[str] | None = None) -> Iterator[Session]:
    """Read a WESAD folder (``SX/SX.pkl`` per subject) lazily.

    Parameters
    ----------
    folder
        The ``WESAD`` folder.
    subjects
        Subject ids such as ``["S2", "S10"]``; every ``SX/SX.pkl`` when None.

    Returns
    -------
    iterator of Session
        As :func:`read_wesad_pkl`, ordered by subject number.

    Raises
    ------
    DataError
        If the folder or a requested subject's file is missing (checked at
        once), or a file's structure is wrong (when read).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: WESAD folder not found")
    if subjects is None:
        names = sorted(
            (p.name for p in folder.iterdir() if re.fullmatch(r"S\d+", p.name) and (p / f"{p.name}.pkl").is_file()),
            key=lambda n: int(n[1:]),
        )
        if not names:
            raise DataError(f"{folder}: no WESAD subject files SX/SX.pkl")
    else:
        names = list(subjects)
        missing = [n for n in names if not (folder / n / f"{n}.pkl").is_file()]
        if missing:
            raise DataError(f"{folder}: WESAD files {[f'{n}/{n}.pkl' for n in missing]} not found")
    return (read_wesad_pkl(folder / n / f"{n}.pkl") for n in names)


def read_wesad_pkl(path: str | Path) -> Session:
    """Read one ``SX.pkl`` into a session without EEG (layout in the module docstring).

    Parameters
    ----------
    path
        The pickle file; loaded with the restricted unpickler.

    Returns
    -------
    Session
        ``ecg`` and ``eda`` (chest), the other chest and wrist signals in
        ``extra``, an empty trial table, and ``info`` (``source``, ``file``,
        ``conditions``, ``durations_s``, ``units``).

    Raises
    ------
    DataError
        Naming the file, subject and field: a refused pickle global, a
        missing ``signal``/``label``/``subject`` or device or signal, an
        array of the wrong shape, a chest signal whose length differs from
        ``label``'s, label codes outside 0-7, arrays larger than
        :data:`PICKLE_BUDGET`.
    """
    path = Path(path)
    content = load_pickle(path, budget=PICKLE_BUDGET)
    if not isinstance(content, dict):
        raise DataError(f"{path}: expected a dict with 'signal', 'label' and 'subject', got {type(content).__name__}")
    missing = [key for key in ("signal", "label", "subject") if key not in content]
    if missing:
        raise DataError(f"{path}: lacks the fields {missing} (it has {sorted(map(str, content))})")
    subject = str(content["subject"])
    signal = content["signal"]
    for device in ("chest", "wrist"):
        if not (isinstance(signal, dict) and isinstance(signal.get(device), dict)):
            raise DataError(f"{path}: subject {subject}: field 'signal' lacks the device dict {device!r}")
    label = np.asarray(content["label"])
    if label.ndim != 1 or not np.issubdtype(label.dtype, np.number) or label.size == 0:
        raise DataError(
            f"{path}: subject {subject}: field 'label' must be a non-empty 1-D numeric array, got shape {label.shape}"
        )
    label = label.astype(np.int64)
    unknown = sorted(set(np.unique(label).tolist()) - set(CONDITIONS) - set(_IGNORED_CODES))
    if unknown:
        raise DataError(f"{path}: subject {subject}: field 'label' has codes {unknown}; WESAD's are 0-7")
    conditions = condition_table(label, CHEST_RATE)
    annotations = mne.Annotations(
        conditions["onset"].to_numpy(), conditions["duration"].to_numpy(), conditions["name"].tolist()
    )
    raws = {}
    for device, signals, rates in (("chest", CHEST_SIGNALS, None), ("wrist", WRIST_SIGNALS, WRIST_RATES)):
        for name, (slot, columns, ch_type, factor) in signals.items():
            n_rows = label.size if rates is None else None
            data = _signal(signal[device], name, columns, n_rows, path, subject, device) * factor
            ch_names = [name] if columns == 1 else [f"{name}_{axis}" for axis in "xyz"]
            sfreq = CHEST_RATE if rates is None else rates[name]
            raws[slot] = _raw(data, ch_names, ch_type, sfreq, annotations)
    raws["stim"] = _raw(label[None, :].astype(float), ["label"], "stim", CHEST_RATE, annotations)
    info = {
        "source": "WESAD",
        "file": str(path),
        "conditions": conditions,
        "durations_s": {slot: float(raw.n_times / raw.info["sfreq"]) for slot, raw in raws.items()},
        "units": {"ecg": "V", "eda": "S", "emg": "V", "temp": "°C", "resp": "%", "acc": "m/s²", "bvp": "device units",
                  "wrist_eda": "S", "wrist_temp": "°C", "wrist_acc": "m/s²"},
    }  # fmt: skip
    ecg, eda = raws.pop("ecg"), raws.pop("eda")
    return Session(subject=subject, eeg=None, ecg=ecg, eda=eda, trials=empty_trials(), info=info, extra=raws)


def condition_table(label: np.ndarray, sfreq: float) -> pd.DataFrame:
    """Contiguous runs of conditions 1-4 in a per-sample label array.

    Parameters
    ----------
    label
        Condition code per sample, ``(n_times,)``.
    sfreq
        Its sampling rate, Hz.

    Returns
    -------
    pandas.DataFrame
        Columns ``condition``, ``name``, ``onset``, ``duration`` (s), one row
        per run, in time order; transient (0) and ignored (5-7) runs are left out.
    """
    label = np.asarray(label)
    change = np.flatnonzero(np.diff(label)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [label.size]])
    codes = label[starts]
    keep = np.isin(codes, [c for c in CONDITIONS if c != 0])
    return pd.DataFrame(
        {
            "condition": codes[keep].astype(int),
            "name": [CONDITIONS[int(c)] for c in codes[keep]],
            "onset": starts[keep] / sfreq,
            "duration": (ends[keep] - starts[keep]) / sfreq,
        }
    )


def _signal(
    device: dict, name: str, columns: int, n_rows: int | None, path: Path, subject: str, where: str
) -> np.ndarray:
    """One ``(n_samples, columns)`` signal as ``(columns, n_samples)`` float, checked."""
    if name not in device:
        raise DataError(f"{path}: subject {subject}: signal.{where} lacks {name!r} (it has {sorted(map(str, device))})")
    array = np.asarray(device[name])
    if array.ndim == 1 and columns == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != columns or not np.issubdtype(array.dtype, np.number) or array.shape[0] == 0:
        raise DataError(
            f"{path}: subject {subject}: signal.{where}.{name} has shape {array.shape}; "
            f"expected (n_samples, {columns}) numeric"
        )
    if n_rows is not None and array.shape[0] != n_rows:
        raise DataError(
            f"{path}: subject {subject}: signal.{where}.{name} has {array.shape[0]} samples but 'label' has {n_rows} "
            f"(both at {CHEST_RATE:g} Hz)"
        )
    return array.T.astype(float)


def _raw(
    data: np.ndarray, names: list[str], ch_type: str, sfreq: float, annotations: mne.Annotations
) -> mne.io.RawArray:
    raw = mne.io.RawArray(data, mne.create_info(names, sfreq, ch_type), verbose="error")
    raw.set_annotations(annotations)
    return raw
