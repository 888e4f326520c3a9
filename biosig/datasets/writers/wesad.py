"""WESAD fixture writer: ``SX/SX.pkl``, a Python-2 style pickle like DEAP's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biosig.datasets import wesad as _wesad
from biosig.datasets.writers.py2_pickle import write_py2_pickle


def random_wesad_subject(
    seed: int,
    subject: str = "S2",
    segments: Sequence[tuple[int, float]] = ((0, 2.0), (1, 6.0), (0, 1.0), (2, 4.0), (3, 3.0)),
) -> dict[str, Any]:
    """A ``SX.pkl`` dict of seeded random data in WESAD's layout, rates and units.

    Parameters
    ----------
    seed
        Seed of the random generator.
    subject
        The ``subject`` field, e.g. ``"S2"``.
    segments
        The protocol as ``(label, seconds)`` runs; the label array at 700 Hz
        repeats each label for its duration.

    Returns
    -------
    dict
        ``{"signal": {"chest": {...}, "wrist": {...}}, "label": (n,), "subject"}``
        with chest arrays ``(n, 1)`` (``ACC`` ``(n, 3)``) at 700 Hz and wrist
        arrays at their own rates (:data:`biosig.datasets.wesad.WRIST_RATES`).
    """
    rng = np.random.default_rng(seed)
    label = np.concatenate([np.full(int(round(s * _wesad.CHEST_RATE)), code, dtype=np.int32) for code, s in segments])
    seconds = label.size / _wesad.CHEST_RATE
    n = label.size
    chest = {
        "ACC": 0.1 * rng.standard_normal((n, 3)),
        "ECG": 0.5 * rng.standard_normal((n, 1)),
        "EMG": 0.01 * rng.standard_normal((n, 1)),
        "EDA": 5.0 + 0.1 * rng.standard_normal((n, 1)),
        "Temp": 33.0 + 0.1 * rng.standard_normal((n, 1)),
        "Resp": rng.standard_normal((n, 1)),
    }
    wrist = {}
    for name, rate in _wesad.WRIST_RATES.items():
        m = int(round(seconds * rate))
        wrist[name] = {
            "ACC": 64.0 * rng.standard_normal((m, 3)),
            "BVP": 50.0 * rng.standard_normal((m, 1)),
            "EDA": 0.5 + 0.01 * rng.standard_normal((m, 1)),
            "TEMP": 32.0 + 0.1 * rng.standard_normal((m, 1)),
        }[name]
    return {"signal": {"chest": chest, "wrist": wrist}, "label": label, "subject": subject}


def write_wesad_pkl(subject: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``SX.pkl`` with Python 2's protocol-2 opcodes, like the real files.

    Parameters
    ----------
    subject
        The dict, e.g. from :func:`random_wesad_subject`; written as given.
    path
        Destination file.

    Returns
    -------
    Path
        The written file.
    """
    return write_py2_pickle(subject, path)
