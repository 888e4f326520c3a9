"""``source.kind: dreamer | deap | seed | wesad``: the official downloads through :mod:`biosig.datasets`, one source per subject.

``source.root`` is the download: ``DREAMER.mat`` (dreamer), the folder of
``sNN.dat`` (deap, ``data_preprocessed_python``), the folder of
``{subject}_{yyyymmdd}.mat`` with ``label.mat`` (seed, ``Preprocessed_EEG``)
or the ``WESAD`` folder of ``SX/SX.pkl`` (wesad). Subject ids are the
adapters' (``S01`` ..., WESAD's ``S2`` ...). Each source loads its own
subject only: DREAMER's subjects are read from the file by index where the
file allows it (:func:`biosig.datasets.load_dreamer`), the others are one
file per subject (SEED: its three sessions, joined back to back in date
order by :func:`biosig.sources.concat.concatenate_sessions`). The trials are
the dataset's own (``trials.from: source``), passed through
:func:`biosig.trials.apply_trials` like every source's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scipy.io

from biosig.config import LabelsConfig, RunConfig, TrialsConfig
from biosig.datasets import load_deap, load_dreamer, load_seed, load_wesad
from biosig.datasets.mat_elements import struct_index
from biosig.errors import ConfigError
from biosig.session import Session
from biosig.sources.concat import concatenate_sessions
from biosig.sources.identity import file_identity, trial_sections_identity
from biosig.trials import apply_trials

_NUMBERED = re.compile(r"S(\d+)")


@dataclass(frozen=True)
class DatasetSource:
    """One subject of a public dataset's download.

    Attributes
    ----------
    kind
        ``"dreamer"``, ``"deap"``, ``"seed"`` or ``"wesad"``.
    root
        The download (``source.root``).
    subject
        The adapter's subject id (``"S01"``; WESAD ``"S2"``).
    files
        Every file the subject's session is read from (for the identity).
    trials, labels
        The run's ``trials`` and ``labels`` sections.
    """

    kind: str
    root: Path
    subject: str
    files: tuple[Path, ...]
    trials: TrialsConfig
    labels: LabelsConfig

    @property
    def name(self) -> str:
        """The subject id."""
        return self.subject

    def identity(self) -> dict[str, Any]:
        """The files read, the subject and the trial and label sections."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "files": [file_identity(p) for p in self.files],
            **trial_sections_identity(self.trials, self.labels),
        }

    def __call__(self) -> Session:
        sessions = _LOADERS[self.kind](self.root, self.subject)
        if len(sessions) == 1:
            session = sessions[0]
        else:
            parts = [(Path(s.info.get("file", self.root)), s) for s in sessions]
            session = concatenate_sessions(self.subject, parts, self.kind)
        return apply_trials(session, self.trials, self.labels, {"subject": self.subject}, Path(session.info["file"]))


def dataset_sources(config: RunConfig) -> list[DatasetSource]:
    """One :class:`DatasetSource` per subject of the download at ``source.root`` (``source.subjects`` only, if set).

    Raises
    ------
    ConfigError
        ``source.root`` is not the download's file or folder, holds no
        subject, or lacks subjects named in ``source.subjects``.
    """
    src = config.source
    root = src.root
    if root is None:
        raise ConfigError(f"kind: {src.kind} needs source.root (the dataset's download)")
    files = _LISTERS[src.kind](root)
    if not files:
        raise ConfigError(f"source.root {root}: no {src.kind} subject found ({_LAYOUTS[src.kind]})")
    subjects = sorted(files, key=_order)
    if src.subjects is not None:
        missing = [s for s in src.subjects if s not in files]
        if missing:
            raise ConfigError(f"source.subjects {missing} are not in the {src.kind} download {root}; it has {subjects}")
        subjects = list(src.subjects)
    return [DatasetSource(src.kind, root, s, files[s], config.trials, config.labels) for s in subjects]


def _order(subject: str) -> tuple[int, str]:
    match = _NUMBERED.fullmatch(subject)
    return (int(match.group(1)) if match else -1, subject)


def _number(subject: str) -> int:
    return _order(subject)[0]


# --------------------------------------------------------------------------- per dataset: subjects and loading


def _dreamer_files(path: Path) -> dict[str, tuple[Path, ...]]:
    """``S01`` ... for each subject of ``DREAMER.mat``, counted from the file's index without reading the signals.

    A file that cannot be indexed (compressed) is checked and counted by reading it whole.
    """
    if not path.is_file():
        raise ConfigError(f"source.root {path} is not a file (kind: dreamer reads DREAMER.mat)")
    index = struct_index(path, "DREAMER")
    cells = index.cell_elements("Data") if index is not None and "Data" in index.fields else None
    if cells is not None:
        n = len(cells[1])
    else:
        load_dreamer(path, [])  # raises the adapter's DataError when the file is not DREAMER.mat
        n = scipy.io.loadmat(path, variable_names=["DREAMER"])["DREAMER"][0, 0]["Data"].size
    return {f"S{k:02d}": (path,) for k in range(1, n + 1)}


def _folder(root: Path, kind: str) -> Path:
    if not root.is_dir():
        raise ConfigError(f"source.root {root} is not a folder (kind: {kind} reads {_LAYOUTS[kind]})")
    return root


def _deap_files(root: Path) -> dict[str, tuple[Path, ...]]:
    found = (re.fullmatch(r"s(\d+)\.dat", p.name) for p in _folder(root, "deap").iterdir())
    return {f"S{int(m.group(1)):02d}": (root / m.group(0),) for m in found if m}


def _seed_files(root: Path) -> dict[str, tuple[Path, ...]]:
    out: dict[str, list[Path]] = {}
    for path in sorted(_folder(root, "seed").iterdir()):
        match = re.fullmatch(r"(\d+)_(\d{8})\.mat", path.name)
        if match:
            out.setdefault(f"S{int(match.group(1)):02d}", []).append(path)
    return {s: (root / "label.mat", *sorted(paths, key=lambda p: p.name.split("_")[1])) for s, paths in out.items()}


def _wesad_files(root: Path) -> dict[str, tuple[Path, ...]]:
    folders = (p for p in _folder(root, "wesad").iterdir() if re.fullmatch(r"S\d+", p.name))
    return {p.name: (p / f"{p.name}.pkl",) for p in folders if (p / f"{p.name}.pkl").is_file()}


_LAYOUTS: dict[str, str] = {
    "dreamer": "the file DREAMER.mat",
    "deap": "a folder of sNN.dat files, data_preprocessed_python",
    "seed": "a folder of <subject>_<yyyymmdd>.mat files with label.mat, Preprocessed_EEG",
    "wesad": "the WESAD folder of SX/SX.pkl files",
}
_LISTERS: dict[str, Callable[[Path], dict[str, tuple[Path, ...]]]] = {
    "dreamer": _dreamer_files,
    "deap": _deap_files,
    "seed": _seed_files,
    "wesad": _wesad_files,
}
_LOADERS: dict[str, Callable[[Path, str], list[Session]]] = {
    "dreamer": lambda root, s: list(load_dreamer(root, [_number(s)])),
    "deap": lambda root, s: list(load_deap(root, [_number(s)])),
    "seed": lambda root, s: list(load_seed(root, [_number(s)])),
    "wesad": lambda root, s: list(load_wesad(root, [s])),
}
