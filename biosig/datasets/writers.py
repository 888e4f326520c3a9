"""Test-fixture writers: files in the exact structure of the DREAMER, DEAP, SEED and WESAD downloads.

The real datasets cannot be downloaded here (and forbid redistribution), so the
adapters are tested on files written by these functions, from sessions or from
seeded random data. Each writer produces what the adapter's module docstring
describes as the real file's structure:

* :func:`write_dreamer_mat`: ``DREAMER.mat``, MATLAB v5, one struct ``DREAMER``
  (see :mod:`biosig.datasets.dreamer`); :func:`dreamer_struct` returns that
  struct as nested dicts and object arrays so a test can break one field and
  save it with :func:`scipy.io.savemat`.
* :func:`write_deap_dat`: ``data_preprocessed_python/sXX.dat``, a pickle with
  Python 2's opcodes (byte strings for keys and array buffers, numpy arrays
  rebuilt by ``numpy.core.multiarray._reconstruct``), so it is read the way
  the real files are: ``encoding="latin1"`` through the restricted unpickler.
  :func:`write_deap_bdf` writes an original 24-bit ``sXX.bdf`` recording with
  the status-channel protocol of :mod:`biosig.datasets.deap`.
* :func:`write_seed_mat` and :func:`write_seed_label_mat`:
  ``Preprocessed_EEG/{subject}_{yyyymmdd}.mat`` and ``label.mat``.
* :func:`write_wesad_pkl`: ``SX/SX.pkl``, a Python-2 style pickle like DEAP's.

Sizes: a DREAMER-scale cohort (23 subjects x 18 trials of 61 s baseline + 60 s
stimulus, EEG 14 channels at 128 Hz, ECG 2 leads at 256 Hz, float64) is
0.92 GB of arrays, written uncompressed as a 0.92 GB file. ``scipy.io.savemat``
writes one variable at a time and the ``DREAMER`` struct is one variable, so
those arrays are held together; pass the sessions as a generator
(``(make_session(k, cfg) for k in range(23))``) and each is reduced to its
arrays as soon as it arrives, so only one session's ``mne.io.Raw`` objects
exist at a time. Measured on the synthetic cohort: peak RSS 1.35 GB for
the whole write (99 s, mostly generating the sessions); a list of 23
sessions would add ~0.95 GB. Reading that file back with
:func:`~biosig.datasets.dreamer.load_dreamer` peaks at 1.25 GB (5 s).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import edfio
import numpy as np
import scipy.io

from biosig.datasets import deap as _deap
from biosig.datasets import dreamer as _dreamer
from biosig.datasets import seed as _seed
from biosig.datasets import wesad as _wesad
from biosig.errors import DataError
from biosig.session import Session

# --------------------------------------------------------------------------- DREAMER


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


# --------------------------------------------------------------------------- DEAP


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
    return _write_py2_pickle(subject, path)


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


# --------------------------------------------------------------------------- SEED


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


# --------------------------------------------------------------------------- WESAD


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
    return _write_py2_pickle(subject, path)


# --------------------------------------------------------------------------- Python-2 pickles


def _write_py2_pickle(subject: Mapping[str, Any], path: str | Path) -> Path:
    """Write a subject dict as a Python-2 protocol-2 pickle (DEAP's and WESAD's format)."""
    path = Path(path)
    path.write_bytes(py2_pickle_dumps(dict(subject)))
    return path


def py2_pickle_dumps(obj: Any) -> bytes:
    """Pickle ``obj`` as Python 2's ``cPickle.dumps(obj, 2)`` with numpy 1.x would.

    Python 3 cannot write Python 2's byte-string opcodes (``str`` in Python 2
    is bytes), so this small writer emits them by hand: ``str`` and ``bytes``
    as ``SHORT_BINSTRING``/``BINSTRING``, numpy arrays as
    ``numpy.core.multiarray._reconstruct`` + ``BUILD`` with the raw buffer as a
    byte string, dtypes as ``numpy.dtype`` + ``BUILD``. Supported: None, bool,
    int, float, str, bytes, tuple, list, dict and numpy arrays of non-object
    dtypes. Loading needs ``encoding="latin1"``, as for the real files.
    """
    out = bytearray(b"\x80\x02")
    _emit_py2(obj, out)
    out += b"."
    return bytes(out)


def _emit_py2(obj: Any, out: bytearray) -> None:
    if obj is None:
        out += b"N"
    elif isinstance(obj, (bool, np.bool_)):
        out += b"\x88" if obj else b"\x89"
    elif isinstance(obj, (int, np.integer)):
        value = int(obj)
        if -(2**31) <= value < 2**31:
            out += b"J" + struct.pack("<i", value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            out += b"\x8a" + bytes([len(raw)]) + raw
    elif isinstance(obj, (float, np.floating)):
        out += b"G" + struct.pack(">d", float(obj))
    elif isinstance(obj, (str, bytes)):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        out += (b"U" + bytes([len(raw)])) if len(raw) < 256 else (b"T" + struct.pack("<i", len(raw)))
        out += raw
    elif isinstance(obj, tuple):
        if not obj:
            out += b")"
            return
        if len(obj) > 3:
            out += b"("
        for item in obj:
            _emit_py2(item, out)
        out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(obj), b"t")
    elif isinstance(obj, list):
        out += b"]"
        if obj:
            out += b"("
            for item in obj:
                _emit_py2(item, out)
            out += b"e"
    elif isinstance(obj, dict):
        out += b"}"
        if obj:
            out += b"("
            for key, value in obj.items():
                _emit_py2(key, out)
                _emit_py2(value, out)
            out += b"u"
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        _, _, state = obj.__reduce__()
        out += b"cnumpy.core.multiarray\n_reconstruct\n"
        out += b"cnumpy\nndarray\n"
        _emit_py2((0,), out)
        _emit_py2(b"b", out)
        out += b"\x87R"
        _emit_py2(state, out)
        out += b"b"
    elif isinstance(obj, np.dtype):
        _, (name, align, copy), state = obj.__reduce__()
        out += b"cnumpy\ndtype\n"
        _emit_py2((name, int(align), int(copy)), out)
        out += b"R"
        _emit_py2(state, out)
        out += b"b"
    else:
        raise TypeError(f"py2_pickle_dumps cannot write {type(obj).__name__}")
