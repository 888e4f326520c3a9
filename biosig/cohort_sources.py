"""Session sources of a cohort: what loads one subject's session, and how it is identified for the cache.

A *session source* is a small picklable object that loads one subject's
:class:`~biosig.session.Session` when called and describes itself for the
cache key (protocol :class:`SessionSource`). Dataset adapters plug in by
providing sources: :class:`SyntheticSource`, :class:`SessionFilesSource`
(EDF + CSV folders of :mod:`biosig.io.files`), or :class:`CallableSource`
around any picklable loader with :func:`~biosig.sources.identity.file_identity`
of the files it reads; the sources of recorded data (``files``, ``bids`` and
the dataset kinds) are in :mod:`biosig.sources`. :func:`sources_from_config`
makes the sources of a run configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from biosig.config import RunConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.io.files import read_session_files, session_paths, write_session_files
from biosig.io.written_sessions import manifest_path, record_written_session, reuse_written_session
from biosig.session import Session
from biosig.sources import bids_sources, dataset_sources, files_sources
from biosig.sources.identity import CONTENT_HASH_MAX_BYTES as CONTENT_HASH_MAX_BYTES
from biosig.sources.identity import file_identity


@runtime_checkable
class SessionSource(Protocol):
    """Loads one session; must be picklable to run in worker processes.

    Attributes
    ----------
    name
        Label for progress and error reports (usually the subject id),
        known before loading.
    """

    name: str

    def identity(self) -> dict[str, Any]:
        """JSON-serialisable description that changes whenever the loaded session would."""
        ...

    def __call__(self) -> Session:
        """Load the session; raise :class:`~biosig.errors.BiosigError` on bad input."""
        ...


@dataclass(frozen=True)
class SyntheticSource:
    """Subject ``index`` of the synthetic cohort, optionally through EDF + CSV files.

    With ``files_dir`` set, the session is written there as EDF + CSV and read
    back (the main job's ``via_files``), which quantises the EEG to 16 bits,
    so it is part of the identity; the folder itself is not.
    """

    index: int
    config: SyntheticConfig
    files_dir: Path | None = None

    @property
    def name(self) -> str:
        """Subject id, ``S01`` for index 0."""
        return f"S{self.index + 1:02d}"

    def identity(self) -> dict[str, Any]:
        """Generator settings without the cohort size (subject k is the same in any cohort) and the index."""
        settings = self.config.model_dump(mode="json", exclude={"n_subjects"})
        return {"kind": "synthetic", "config": settings, "index": self.index, "via_files": self.files_dir is not None}

    def __call__(self) -> Session:
        if self.files_dir is not None:
            reused = reuse_written_session(self.files_dir, self.name, self.identity())
            if reused is not None:  # the same run's feature step wrote them (see biosig.io.written_sessions)
                return reused
        session = make_session(self.index, self.config)
        if self.files_dir is None:
            return session
        manifest_path(self.files_dir, self.name).unlink(missing_ok=True)
        written = write_session_files(session, self.files_dir)
        truth = session.info
        record_written_session(self.files_dir, self.name, self.identity(), truth, written)
        session = read_session_files(self.files_dir, session.subject)
        session.info = {**truth, **session.info}
        return session


@dataclass(frozen=True)
class SessionFilesSource:
    """A subject's EDF + CSV files in a folder (layout of :mod:`biosig.io.files`)."""

    folder: Path
    subject: str

    @property
    def name(self) -> str:
        """The subject id."""
        return self.subject

    def identity(self) -> dict[str, Any]:
        """Identity of each of the subject's files present (see :func:`file_identity`)."""
        paths = session_paths(self.folder, self.subject)
        files = {kind: file_identity(p) for kind, p in paths.items() if p.exists()}
        return {"kind": "session_files", "subject": self.subject, "files": files}

    def __call__(self) -> Session:
        return read_session_files(self.folder, self.subject)


@dataclass(frozen=True)
class CallableSource:
    """Any picklable zero-argument loader (module-level function, :func:`functools.partial`)
    with an identity computed by the caller, e.g. ``{"file": file_identity(path), "subject": 3}``."""

    name: str
    loader: Callable[[], Session]
    ident: Mapping[str, Any]

    def identity(self) -> dict[str, Any]:
        """The identity given at construction."""
        return dict(self.ident)

    def __call__(self) -> Session:
        return self.loader()


def sources_from_config(config: RunConfig, files_dir: Path) -> list[SessionSource]:
    """The sources of the configured ``source`` section, one per subject, by ``source.kind``.

    ``synthetic``: :class:`SyntheticSource`; ``files_dir`` is where
    ``via_files`` writes the session files when ``source.files_dir`` is not
    set. ``files``, ``bids``, ``dreamer``, ``deap``, ``seed``, ``wesad``: the
    sources of :mod:`biosig.sources` (``files_dir`` unused).

    Raises
    ------
    ConfigError
        The data under ``source.root`` do not fit the configuration (no file
        matches the pattern, a field cannot be captured, unknown subjects...).
    """
    src = config.source
    if src.kind == "files":
        return list(files_sources(config))
    if src.kind == "bids":
        return list(bids_sources(config))
    if src.kind != "synthetic":
        return list(dataset_sources(config))
    via = (src.files_dir or files_dir) if src.via_files else None
    return [SyntheticSource(k, src.synthetic, via) for k in range(src.synthetic.n_subjects)]

