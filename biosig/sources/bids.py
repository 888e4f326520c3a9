"""``source.kind: bids``: a BIDS dataset read with mne-bids, one source per subject.

Recordings are listed with :func:`mne_bids.find_matching_paths` (``task``,
``subjects``, ``sessions``, ``runs``, ``datatype``) and read with
:func:`mne_bids.read_raw_bids`, which types the channels from
``channels.tsv`` and turns ``events.tsv`` into annotations (so ``trials.from:
events`` finds them). Each recording is split into the session's modalities
by the package's channel rules (:func:`biosig.io.channels.plan_channels`),
its trials built by :func:`biosig.trials.apply_trials` (the fields are the
BIDS entities: ``subject``, ``session``, ``task``, ``run``...), and a
subject's recordings are joined in path order
(:func:`biosig.sources.concat.concatenate_sessions`). The subject's row of
``participants.tsv`` is ``session.info["participant"]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mne
import mne_bids
import pandas as pd

from biosig.config import LabelsConfig, RunConfig, TrialsConfig
from biosig.errors import BiosigError, ConfigError, DataError
from biosig.io.channels import plan_channels
from biosig.io.files import drop_export_padding
from biosig.io.mne_formats import MNE_FORMATS, split_by_modality
from biosig.io.trials import build_session
from biosig.session import Session
from biosig.sources.concat import concatenate_sessions
from biosig.sources.identity import file_identity, trial_sections_identity
from biosig.trials import apply_ratings, apply_trials, ratings_by_file

#: Recording file suffixes looked for (MNE's formats, one file per recording).
RECORDING_EXTENSIONS: tuple[str, ...] = tuple(s for s in MNE_FORMATS if s.count(".") == 1)


@dataclass(frozen=True)
class BidsSource:
    """One subject's recordings in a BIDS dataset, read and joined into one session.

    Attributes
    ----------
    root
        The dataset's root folder.
    subject
        The BIDS subject label (``01`` for ``sub-01``).
    recordings
        The subject's recording files in path order.
    trials, labels
        The run's ``trials`` and ``labels`` sections.
    """

    root: Path
    subject: str
    recordings: tuple[Path, ...]
    trials: TrialsConfig
    labels: LabelsConfig

    @property
    def name(self) -> str:
        """The subject label."""
        return self.subject

    def identity(self) -> dict[str, Any]:
        """Every file of each recording (data and sidecars), ``participants.tsv`` and the trial sections."""
        files = [p for path in self.recordings for p in _recording_files(path)]
        participants = self.root / "participants.tsv"
        if participants.is_file():
            files.append(participants)
        return {
            "kind": "bids",
            "subject": self.subject,
            "files": [{"file": file_identity(p), "at": str(p.relative_to(self.root))} for p in files],
            **trial_sections_identity(self.trials, self.labels),
        }

    def __call__(self) -> Session:
        parts = []
        by_file = ratings_by_file(self.labels)
        for path in self.recordings:
            bids_path = mne_bids.get_bids_path_from_fname(path)
            bids_path.update(root=self.root)
            raw, notes = _read_raw(bids_path)
            session = session_from_raw(self.subject, raw, path, "bids")
            session.info["warnings"] += notes
            fields = {k: str(v) for k, v in bids_path.entities.items() if v is not None}
            parts.append((path, apply_trials(session, self.trials, self.labels, fields, path, ratings=by_file)))
        session = concatenate_sessions(self.subject, parts, "bids")
        session.info["participant"] = _participant(self.root, self.subject)
        return session if by_file else apply_ratings(session, self.labels, self.recordings[0])


def session_from_raw(subject: str, raw: mne.io.BaseRaw, path: Path, source: str) -> Session:
    """A Session from one recording that MNE has read: channels split by modality, trials from annotations.

    Channel names and modalities follow :func:`biosig.io.channels.plan_channels`
    with the channel types ``raw`` declares; the EEG gets the 10-05 montage.
    The trial table is that of :func:`biosig.io.trials.build_session`.
    """
    raw.load_data(verbose="error")
    plan = plan_channels(raw.ch_names, raw.get_channel_types(), None, source=str(path))
    raws = split_by_modality(raw, plan)
    info = {"source": source, "file": str(path), "warnings": plan.warnings, "start_offsets_s": dict.fromkeys(raws, 0.0)}
    return build_session(subject, raws, info, None)


def bids_sources(config: RunConfig) -> list[BidsSource]:
    """One :class:`BidsSource` per subject with recordings matching the ``source`` section, by subject label.

    Raises
    ------
    ConfigError
        ``source.root`` is not a folder, no recording matches (naming root,
        task, datatype and the filters), or ``source.subjects`` names
        subjects without a matching recording.
    """
    src = config.source
    if src.root is None or not src.root.is_dir():
        raise ConfigError(f"source.root {src.root} is not a folder (kind: bids reads a BIDS dataset's root)")
    root = src.root
    found = mne_bids.find_matching_paths(
        root,
        subjects=list(src.subjects) if src.subjects else None,
        sessions=list(src.sessions) if src.sessions else None,
        tasks=src.task,
        runs=list(src.runs) if src.runs else None,
        datatypes=src.datatype,
        suffixes=src.datatype,
        extensions=list(RECORDING_EXTENSIONS),
    )
    by_subject: dict[str, list[Path]] = {}
    for bids_path in found:
        by_subject.setdefault(bids_path.subject, []).append(Path(bids_path.fpath))
    if not by_subject:
        raise ConfigError(
            f"source.root {root}: no {src.datatype} recording ({', '.join(RECORDING_EXTENSIONS)}) matches "
            f"task={src.task}, subjects={src.subjects}, sessions={src.sessions}, runs={src.runs}"
        )
    missing = [s for s in src.subjects or () if s not in by_subject]
    if missing:
        raise ConfigError(f"source.subjects {missing} have no matching recording under {root}; found {sorted(by_subject)}")
    subjects = list(src.subjects) if src.subjects else sorted(by_subject)
    return [BidsSource(root, s, tuple(sorted(by_subject[s])), config.trials, config.labels) for s in subjects]


def _read_raw(bids_path: mne_bids.BIDSPath) -> tuple[mne.io.BaseRaw, list[str]]:
    """:func:`mne_bids.read_raw_bids` and its warnings as notes; every failure a DataError naming the file."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = mne_bids.read_raw_bids(bids_path, verbose=False)
            raw.load_data(verbose="error")
    except BiosigError:
        raise
    except Exception as exc:  # untrusted dataset: any failure inside the reader is bad data, not a bug of ours
        raise DataError(f"{bids_path.fpath}: cannot read the BIDS recording ({type(exc).__name__}: {exc})") from exc
    if str(bids_path.extension).lower() in (".edf", ".bdf"):
        raw = drop_export_padding(raw)  # as the files kind does (biosig.io.mne_formats)
    return raw, [f"{bids_path.basename}: {w.message}" for w in caught]


def _recording_files(path: Path) -> list[Path]:
    """The recording's files: itself and its sidecars (``<entities>_*`` beside it), sorted."""
    stem = path.name.rsplit("_", 1)[0]
    return sorted(p for p in path.parent.glob(f"{stem}_*") if p.is_file())


def _participant(root: Path, subject: str) -> dict[str, Any]:
    """The subject's row of ``participants.tsv`` (``n/a`` as None); empty when the file or row is absent."""
    path = root / "participants.tsv"
    if not path.is_file():
        return {}
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read participants.tsv ({exc})") from exc
    if "participant_id" not in table.columns:
        raise DataError(f"{path}: participants.tsv has no participant_id column")
    rows = table[table["participant_id"] == f"sub-{subject}"]
    if rows.empty:
        return {}
    return {k: (None if v == "n/a" else v) for k, v in rows.iloc[0].items() if k != "participant_id"}
