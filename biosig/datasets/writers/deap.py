"""DEAP fixture writers: preprocessed ``sXX.dat`` (Python-2 pickle) and original ``sXX.bdf`` recordings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import edfio
import numpy as np

from biosig.datasets import deap as _deap
from biosig.datasets.writers.py2_pickle import write_py2_pickle


def random_deap_subject(seed: int, n_trials: int = 40, n_times: int = 8064) -> dict[str, np.ndarray]:
    """A ``sXX.dat`` dict of seeded random data in DEAP's layout and units.

    Parameters
    ----------
    seed
        Seed of the random generator.
    n_trials
        Trials (40 in DEAP).
    n_times
        Samples per trial at 128 Hz (8064 = 3 s baseline + 60 s in DEAP).

    Returns
    -------
    dict
        ``data`` ``(n_trials, 40, n_times)`` float64: EEG and EOG/EMG noise in
        µV, GSR as a positive resistance in ohms (see
        :data:`biosig.datasets.deap.GSR_UNIT`), respiration, plethysmograph and
        temperature; ``labels`` ``(n_trials, 4)`` float64 on 1-9.
    """
    rng = np.random.default_rng(seed)
    data = 10.0 * rng.standard_normal((n_trials, len(_deap.CHANNELS), n_times))
    gsr = _deap.CHANNELS.index("GSR")
    data[:, gsr] = 2.0e5 * np.exp(0.05 * rng.standard_normal((n_trials, n_times)))
    data[:, _deap.CHANNELS.index("Temperature")] += 31.0
    labels = rng.uniform(1.0, 9.0, (n_trials, 4))
    return {"labels": labels, "data": data}


def write_deap_dat(subject: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``sXX.dat``: the dict pickled with Python 2's protocol-2 opcodes.

    Parameters
    ----------
    subject
        ``{"labels": (n_trials, 4), "data": (n_trials, 40, n_times)}``, e.g.
        from :func:`random_deap_subject`; any other structure is written as
        given (to test the adapter's errors).
    path
        Destination file.

    Returns
    -------
    Path
        The written file.
    """
    return write_py2_pickle(subject, path)


def write_deap_bdf(
    path: str | Path,
    n_trials: int = 3,
    seed: int = 0,
    sfreq: float = 512.0,
    video_seconds: float = 60.0,
    baseline_recording_seconds: float = 120.0,
    status_high_bits: int = 0,
) -> Path:
    """Write an original-recording ``sXX.bdf`` with DEAP's channels and status protocol.

    Channels: the 32 EEG electrodes (Geneva order), ``EXG1``-``EXG8``,
    ``GSR1``, ``GSR2``, ``Erg1``, ``Erg2``, ``Resp``, ``Plet``, ``Temp`` and
    ``Status``; 24-bit, 1-s data records. The status channel follows the
    protocol in :data:`biosig.datasets.deap.STATUS_CODES`: 1 (start), 1
    (baseline recording), 2 (sync screen), then per trial 3 (5-s fixation),
    4 (video), 5 (3-s fixation), 1 (rating screen, 5 s here), and finally 2
    and 7. Each code is a 10-sample pulse; ``status_high_bits`` is added to
    every status sample (BioSemi sets upper bits for CMS/battery flags).

    Parameters
    ----------
    path
        Destination file.
    n_trials
        Trials (40 in DEAP).
    seed
        Seed of the random signals.
    sfreq
        Sampling rate, Hz (512 in DEAP).
    video_seconds, baseline_recording_seconds
        Durations, s (60 and 120 in DEAP).
    status_high_bits
        Value added to the status channel, e.g. ``0x100000``.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    events: list[tuple[float, int]] = [(1.0, 1), (2.0, 1)]
    t = 2.0 + baseline_recording_seconds
    events.append((t, 2))
    t += 1.0
    for _ in range(n_trials):
        for code, duration in ((3, 5.0), (4, video_seconds), (5, 3.0), (1, 5.0)):
            events.append((t, code))
            t += duration
    events += [(t, 2), (t + 1.0, 7)]
    n_times = int(np.ceil(t + 3.0)) * int(sfreq)
    status = np.full(n_times, float(status_high_bits))
    for onset, code in events:
        first = int(round(onset * sfreq))
        status[first : first + 10] += code
    signals = [
        edfio.BdfSignal(
            20.0 * rng.standard_normal(n_times),
            sfreq,
            label=name,
            physical_dimension="uV",
            physical_range=(-262144.0, 262143.0),
        )
        for name in _deap.BDF_EEG_CHANNELS + _deap.BDF_EXG_CHANNELS
    ]
    extra = {
        "GSR1": ("Ohm", 2.0e5 * np.exp(0.05 * rng.standard_normal(n_times)), (0.0, 4.0e6)),
        "GSR2": ("Ohm", np.zeros(n_times), (0.0, 4.0e6)),
        "Erg1": ("uV", rng.standard_normal(n_times), (-262144.0, 262143.0)),
        "Erg2": ("uV", rng.standard_normal(n_times), (-262144.0, 262143.0)),
        "Resp": ("uV", 100.0 * rng.standard_normal(n_times), (-262144.0, 262143.0)),
        "Plet": ("uV", 100.0 * rng.standard_normal(n_times), (-262144.0, 262143.0)),
        "Temp": ("uV", 31.0 + 0.01 * rng.standard_normal(n_times), (-262144.0, 262143.0)),
    }
    signals += [
        edfio.BdfSignal(values, sfreq, label=name, physical_dimension=unit, physical_range=prange)
        for name, (unit, values, prange) in extra.items()
    ]
    signals.append(
        edfio.BdfSignal(
            status, sfreq, label="Status", physical_dimension="Boolean",
            physical_range=(-8388608.0, 8388607.0), digital_range=(-8388608, 8388607),
        )
    )  # fmt: skip
    edfio.Bdf(signals, data_record_duration=1.0).write(path)
    return path
