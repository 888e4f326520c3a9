"""``source.kind: files``: the recordings under ``source.root`` that match ``source.pattern``, one source per subject.

Each file is read with :func:`biosig.io.read_session` (options
``source.read``) and its trials built by :func:`biosig.trials.apply_trials`
from the ``trials`` and ``labels`` sections and the fields captured from its
path (:mod:`biosig.sources.pattern`). The ``{subject}`` field groups files
into subjects; without it each file is its own subject, named by its stem. A
subject with several files is one session: the files back to back in path
order (:func:`biosig.sources.concat.concatenate_sessions`). ``labels.ratings``
are merged once over the joined session's trials 1..n, or per file when its
``match`` names path fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biosig.config import LabelsConfig, RunConfig, TrialsConfig
from biosig.errors import ConfigError
from biosig.io import read_session
from biosig.session import Session
from biosig.sources.concat import concatenate_sessions
from biosig.sources.identity import file_identity, trial_sections_identity
from biosig.sources.pattern import match_files
from biosig.trials import apply_ratings, apply_trials, ratings_by_file

#: A file and the fields captured from its path, as sorted (name, value) pairs.
FileFields = tuple[Path, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class FilesSource:
    """One subject's files of ``kind: files``, read and joined into one session.

    Attributes
    ----------
    subject
        The subject id (the ``{subject}`` field, or the file's stem).
    files
        The subject's files in path order, each with its captured fields.
    read
        Options for :func:`biosig.io.read_session` (``source.read``).
    trials, labels
        The run's ``trials`` and ``labels`` sections.
    """

    subject: str
    files: tuple[FileFields, ...]
    read: Mapping[str, Any]
    trials: TrialsConfig
    labels: LabelsConfig

    @property
    def name(self) -> str:
        """The subject id."""
        return self.subject

    def identity(self) -> dict[str, Any]:
        """Each file's identity and fields, the reader options and the trial and label sections."""
        return {
            "kind": "files",
            "subject": self.subject,
            "files": [{"file": file_identity(path), "fields": dict(fields)} for path, fields in self.files],
            "read": dict(self.read),
            **trial_sections_identity(self.trials, self.labels),
        }

    def __call__(self) -> Session:
        parts = []
        by_file = ratings_by_file(self.labels)
        for path, fields in self.files:
            session = read_session(path, **{**self.read, "subject": self.subject})
            parts.append((path, apply_trials(session, self.trials, self.labels, dict(fields), path, ratings=by_file)))
        session = concatenate_sessions(self.subject, parts, "files")
        for recording, (_, fields) in zip(session.info["recordings"], self.files):
            recording["fields"] = dict(fields)
        return session if by_file else apply_ratings(session, self.labels, self.files[0][0])


def files_sources(config: RunConfig) -> list[FilesSource]:
    """One :class:`FilesSource` per subject of ``source.pattern`` under ``source.root``, in subject order.

    Raises
    ------
    ConfigError
        No file matches, a field cannot be captured from a path (see
        :func:`~biosig.sources.pattern.match_files`), two files without a
        ``{subject}`` field share a stem, or ``source.subjects`` names
        subjects that have no file.
    """
    src = config.source
    if src.root is None or not src.pattern:
        raise ConfigError("kind: files needs source.root and source.pattern")
    by_subject: dict[str, list[FileFields]] = {}
    for path, fields in match_files(src.root, src.pattern):
        subject = fields.get("subject")
        if subject is None:
            subject = path.name.split(".")[0]
            if subject in by_subject:
                raise ConfigError(
                    f"source.pattern {src.pattern!r} has no {{subject}} field, so each file is a subject named by "
                    f"its stem, but {by_subject[subject][0][0]} and {path} share the stem {subject!r}; add a "
                    "{subject} field to the pattern"
                )
        by_subject.setdefault(subject, []).append((path, tuple(sorted(fields.items()))))
    subjects = sorted(by_subject)
    if src.subjects is not None:
        missing = [s for s in src.subjects if s not in by_subject]
        if missing:
            raise ConfigError(
                f"source.subjects {missing} have no file matching {src.pattern!r} under {src.root}; "
                f"the pattern finds subjects {subjects}"
            )
        subjects = list(src.subjects)
    return [
        FilesSource(s, tuple(by_subject[s]), dict(src.read), config.trials, config.labels) for s in subjects
    ]
