"""One entry point for recorded data: :func:`read_session` picks the reader and returns a Session.

Formats, recognised by content first and by name second (``format=`` forces one):

===================  ==============================================  ==========================================
format               recognised by                                   reader
===================  ==============================================  ==========================================
``session-files``    a folder with ``<subject>_eeg.edf`` and         :func:`biosig.io.files.read_session_files`
                     ``<subject>_trials.csv`` (the package's own)
``e4``               a folder with Empatica E4 ``EDA.csv``,          :func:`biosig.io.e4.read_e4`
                     ``BVP.csv``, ``ACC.csv``, ``TEMP.csv``,
                     ``HR.csv`` or ``IBI.csv``
``xdf``              ``XDF:`` magic, ``.xdf``                        :func:`biosig.io.xdf.read_xdf`
``mne``              EDF/BDF/GDF/FIF magic; ``.edf``, ``.bdf``,      :func:`biosig.io.mne_formats.read_mne`
                     ``.vhdr``, ``.set``, ``.fif(.gz)``, ``.gdf``,
                     ``.cnt``
``table``            Parquet magic, ``# Simple Text Format``;        :func:`biosig.io.tables.read_table`
                     ``.csv``, ``.tsv``, ``.txt``, ``.parquet``
===================  ==============================================  ==========================================

Options (keyword arguments), by format; one that does not apply is a
:class:`~biosig.errors.ConfigError`:

* every format: ``subject`` (default: the subject in the file names, the
  BIDS ``sub-`` label, the folder or the file stem), ``format``;
* ``mne``, ``xdf``, ``table``: ``channel_types`` (channel -> ``eeg``,
  ``ecg``, ``eda``/``gsr``, ``eog``, ``emg``, ``resp``, ``bvp``/``ppg``,
  ``temp``, ``acc``, ``hr``, ``stim``, ``misc``);
* ``mne``: ``ratings`` (DataFrame or CSV path with ``trial``, ``valence``,
  ``arousal``, ``dominance``);
* ``xdf``: ``streams`` (the streams to keep, each selected by name or
  type, or by ``"source_id:ID"``, ``"hostname:HOST"`` or ``"index:N"``
  (0-based, in file order) when streams share a name; see
  :func:`biosig.io.xdf.read_xdf`), ``irregular_sfreq`` (Hz);
* ``table``: ``time_column``, ``time_unit``, ``sfreq``, ``dejitter``,
  ``names``, ``units`` (see :mod:`biosig.io.tables`).

What every session read here has:

* one :class:`mne.io.Raw` per modality (EEG, ECG, EDA in the Session's
  fields; BVP, respiration, temperature, ... in ``Session.extra``), each at
  its own rate, in SI units, the EEG with the 10-05 montage;
* **one clock**: t = 0 s is the latest first sample among the EEG, ECG and
  EDA recordings (so each has data from 0 s), or the earliest first sample
  when there are none. Other modalities are cropped to it or padded with NaN
  (marked ``BAD_ACQ_SKIP``). Sample 0 of each modality lies within half a
  sample period of t = 0: ``info["start_offsets_s"]`` gives the exact offset
  per modality (0 for single-file formats);
* events (annotations, XDF markers, E4 tags and inter-beat intervals) as MNE
  annotations on every recording they fall in;
* a trial table built from ``baseline/T01`` + ``stimulus/T01`` annotations
  (the package's own convention) with the ``ratings`` option; without
  ratings or such annotations the table is empty (and a warning says why
  when the annotations were there);
* ``info["warnings"]``: everything dropped, assumed or resampled.

Only regular files (and folders) are read: a named pipe, socket or device
is a :class:`~biosig.errors.DataError` naming the path. The clock is built by
:func:`biosig.io.clock.assemble`, the trial table by
:func:`biosig.io.trials.build_session`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from biosig.errors import ConfigError, DataError
from biosig.io.clock import assemble
from biosig.io.e4 import is_e4_folder, read_e4
from biosig.io.files import read_session_files
from biosig.io.mne_formats import MNE_FORMATS, mne_suffix, read_mne
from biosig.io.tables import PARQUET_MAGIC, TABLE_SUFFIXES, is_opensignals, read_table
from biosig.io.trials import build_session
from biosig.io.xdf import read_xdf
from biosig.io.xdf_chunks import XDF_MAGIC
from biosig.session import Session

#: Format -> what it covers, for messages.
SUPPORTED_FORMATS: dict[str, str] = {
    "session-files": "folder with <subject>_eeg.edf + <subject>_trials.csv (biosig's own)",
    "e4": "Empatica E4 export folder (EDA.csv, BVP.csv, ACC.csv, TEMP.csv, HR.csv, IBI.csv, tags)",
    "xdf": "XDF / LabRecorder (.xdf)",
    "mne": "MNE-readable: " + ", ".join(sorted({f"{v} ({k})" for k, v in MNE_FORMATS.items()})),
    "table": "CSV/TSV/TXT, Parquet, OpenSignals text (.csv, .tsv, .txt, .parquet)",
}
_OPTIONS: dict[str, set[str]] = {
    "session-files": set(),
    "e4": set(),
    "xdf": {"channel_types", "streams", "irregular_sfreq"},
    "mne": {"channel_types", "ratings"},
    "table": {"channel_types", "time_column", "time_unit", "sfreq", "dejitter", "names", "units"},
}
_COMMON_OPTIONS = {"subject", "format"}
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (XDF_MAGIC, "xdf"),
    (b"0       ", "mne"),  # EDF
    (b"\xffBIOSEMI", "mne"),
    (b"GDF", "mne"),
    (b"\x00\x00\x00\x64", "mne"),  # FIF: the file id tag (kind 100) first
    (PARQUET_MAGIC, "table"),
)
_BIDS_SUBJECT = re.compile(r"(?:^|_)sub-([A-Za-z0-9]+)")


def read_session(path: str | Path, **options: Any) -> Session:
    """Read a recording into a :class:`~biosig.session.Session`, whatever its format.

    Parameters
    ----------
    path
        A file or a folder; see the module docstring for the formats.
    **options
        Reader options, by format (module docstring). ``format`` forces a
        reader (``"session-files"``, ``"e4"``, ``"xdf"``, ``"mne"``, ``"table"``).

    Returns
    -------
    Session
        The recording on one clock in SI units; ``info`` has ``source``,
        ``file``, ``warnings`` and ``start_offsets_s``.

    Raises
    ------
    DataError
        The path is missing, not a regular file or folder, or in no
        supported format (the message lists them), or the reader found bad
        data (the message names the file).
    ConfigError
        An option that the format does not take, or a bad option value.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if not (path.is_file() or path.is_dir()):
        raise DataError(f"{path}: not a regular file or folder (a named pipe, socket or device); only files are read")
    fmt = options.get("format") or detect_format(path)
    if fmt not in _OPTIONS:
        raise ConfigError(f"format={fmt!r}; allowed: {sorted(_OPTIONS)}")
    unknown = sorted(set(options) - _COMMON_OPTIONS - _OPTIONS[fmt])
    if unknown:
        raise ConfigError(
            f"options {unknown} do not apply to {path} (format {fmt!r}); it takes "
            f"{sorted(_COMMON_OPTIONS | _OPTIONS[fmt])}"
        )
    subject = options.get("subject") or _subject_from_path(path)
    if fmt == "session-files":
        return _read_session_files(path, options.get("subject"))
    if fmt == "mne":
        raws, notes = read_mne(path, options.get("channel_types"))
        info = {"source": "mne", "file": str(path), "warnings": notes, "start_offsets_s": dict.fromkeys(raws, 0.0)}
        return build_session(subject, raws, info, options.get("ratings"))
    if fmt == "xdf":
        reader_options = {k: options[k] for k in ("streams", "channel_types", "irregular_sfreq") if k in options}
        recording = read_xdf(path, subject=subject, **reader_options)
    elif fmt == "e4":
        recording = read_e4(path, subject=subject)
    else:
        recording = read_table(path, subject=subject, **{k: options[k] for k in _OPTIONS["table"] if k in options})
    raws, info = assemble(recording)
    return build_session(subject, raws, info, None)


def detect_format(path: Path) -> str:
    """The :data:`SUPPORTED_FORMATS` key for ``path``, by content then by name; DataError if none."""
    path = Path(path)
    if path.is_dir():
        if _project_subjects(path):
            return "session-files"
        if is_e4_folder(path):
            return "e4"
        raise DataError(f"{path}: a folder in no supported format; supported: {_supported()}")
    with path.open("rb") as f:
        head = f.read(8)
    for magic, fmt in _MAGICS:
        if head.startswith(magic):
            return fmt
    if is_opensignals(path):
        return "table"
    name = path.name.lower()
    if name.endswith((".xdf", ".xdfz")):
        return "xdf"
    if mne_suffix(path):
        return "mne"
    if name.endswith(TABLE_SUFFIXES):
        return "table"
    raise DataError(f"{path}: neither its content nor its name is a supported format; supported: {_supported()}")


def _supported() -> str:
    return "; ".join(f"{key}: {text}" for key, text in SUPPORTED_FORMATS.items())


def _subject_from_path(path: Path) -> str:
    name = path.name if path.is_dir() else path.name.split(".")[0]
    match = _BIDS_SUBJECT.search(name)
    return match.group(1) if match else name


# --------------------------------------------------------------------------- the package's own files


def _project_subjects(folder: Path) -> list[str]:
    eeg = {p.name[: -len("_eeg.edf")] for p in folder.glob("*_eeg.edf")}
    return sorted(s for s in eeg if (folder / f"{s}_trials.csv").is_file())


def _read_session_files(folder: Path, subject: str | None) -> Session:
    subjects = _project_subjects(folder)
    if subject is None:
        if len(subjects) != 1:
            raise DataError(f"{folder}: holds subjects {subjects}; pass subject= to pick one")
        subject = subjects[0]
    elif subject not in subjects:
        raise DataError(f"{folder}: no session files for subject {subject!r}; it has {subjects}")
    present = tuple(m for m in ("ecg", "eda") if (folder / f"{subject}_{m}.csv").is_file())
    session = read_session_files(folder, subject, modalities=present)
    session.info.update(source="session-files", file=str(folder), warnings=[])
    session.info["start_offsets_s"] = dict.fromkeys(session.modalities(), 0.0)
    return session
