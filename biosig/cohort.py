"""Cohort orchestration: session sources -> cached per-subject features -> one lazy cohort.

A *session source* is a small picklable object that loads one subject's
:class:`~biosig.session.Session` when called and describes itself for the
cache key (protocol :class:`SessionSource`). :func:`process_cohort` looks each
source up in the :class:`~biosig.cache.FeatureCache`, computes the missing
ones with an :class:`~biosig.executor.Executor` (each worker loads, preprocesses,
extracts features and writes the entry itself, so only a small record travels
back), then opens every entry lazily and concatenates them along ``window``.

A :class:`~biosig.errors.BiosigError` raised while loading or processing one
source skips that source; :attr:`CohortRun.skipped` and
:meth:`CohortRun.summary` say which and why. Other exceptions are bugs and
stop the run; what was already cached stays cached, so a rerun resumes.

Dataset adapters plug in by providing sources: :class:`SyntheticSource`,
:class:`SessionFilesSource` (EDF + CSV folders of :mod:`biosig.io.files`), or
:class:`CallableSource` around any picklable loader with
:func:`file_identity` of the files it reads.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from biosig.cache import ORPHAN_AGE_S, FeatureCache, entry_key
from biosig.config import RunConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import BiosigError, DataError
from biosig.executor import Executor
from biosig.io.files import read_session_files, session_paths, write_session_files
from biosig.pipeline import SessionResult, _check_compatible, session_features
from biosig.session import Session

logger = logging.getLogger(__name__)

#: Files up to this size are identified by a SHA-256 of their content, larger ones by path, size and mtime.
CONTENT_HASH_MAX_BYTES = 1 << 20


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


def file_identity(path: str | Path) -> dict[str, Any]:
    """Identity of one input file for cache keys.

    Files up to :data:`CONTENT_HASH_MAX_BYTES` are identified by the SHA-256 of
    their content (moving or touching them keeps the key); larger ones by
    absolute path, size (bytes) and modification time (ns), which is cheap.

    Raises
    ------
    DataError
        If the file does not exist or cannot be read.
    """
    path = Path(path)
    try:
        stat = path.stat()
        if stat.st_size <= CONTENT_HASH_MAX_BYTES:
            return {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    except OSError as exc:
        raise DataError(f"input file {path} cannot be read: {exc}") from None
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


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
        session = make_session(self.index, self.config)
        if self.files_dir is None:
            return session
        write_session_files(session, self.files_dir)
        truth = session.info
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
    """The sources of the configured ``source`` section.

    ``files_dir`` is where ``via_files`` writes the session files when
    ``source.files_dir`` is not set.
    """
    src = config.source
    via = (src.files_dir or files_dir) if src.via_files else None
    return [SyntheticSource(k, src.synthetic, via) for k in range(src.synthetic.n_subjects)]


@dataclass(frozen=True)
class Skipped:
    """A source left out of the cohort: its name, the stage that failed and the error.

    Stages: ``identity`` (describing the source for the cache key, e.g. its
    file is missing), ``load`` (reading the session), ``features``
    (preprocessing, windows, features).
    """

    name: str
    stage: str
    error: str


@dataclass
class CohortRun:
    """What :func:`process_cohort` produced.

    Attributes
    ----------
    features
        The cohort, concatenated along ``window`` (subjects in source order);
        data variables are dask arrays read from the cache.
    results
        One lazy :class:`~biosig.pipeline.SessionResult` per kept subject.
    session_info
        Each kept subject's ``Session.info`` as stored in the cache (JSON).
    computed, cached
        Names of the sources computed in this run and found in the cache.
    skipped
        Sources left out and why.
    """

    features: xr.Dataset
    results: list[SessionResult]
    session_info: dict[str, dict[str, Any]]
    computed: list[str]
    cached: list[str]
    skipped: list[Skipped]
    cache_dir: Path
    executor: str
    timings_s: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready account of the run: counts, what was skipped and why, where, how long."""
        return {
            "n_sources": len(self.computed) + len(self.cached) + len(self.skipped),
            "n_subjects": len(self.results),
            "n_windows": int(self.features.sizes["window"]),
            "computed": self.computed,
            "cached": self.cached,
            "skipped": [vars(s) for s in self.skipped],
            "cache_dir": str(self.cache_dir),
            "executor": self.executor,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


@dataclass(frozen=True)
class _Task:
    source: SessionSource
    identity: dict[str, Any]  # as hashed into key, stored with the entry
    key: str
    config: RunConfig
    cache_root: Path


@dataclass(frozen=True)
class _Outcome:
    name: str
    key: str
    skipped: Skipped | None = None


def _compute(task: _Task) -> _Outcome:
    """Worker side: load, preprocess, extract features, write the entry."""
    name = task.source.name
    stage = "load"
    try:
        session = task.source()
        stage = "features"
        result = session_features(session, task.config)
    except BiosigError as exc:
        return _Outcome(name, task.key, Skipped(name, stage, f"{type(exc).__name__}: {exc}"))
    FeatureCache(task.cache_root).write(task.key, result, task.identity, session.info)
    return _Outcome(name, task.key)


def process_cohort(
    sources: Iterable[SessionSource],
    config: RunConfig,
    cache: FeatureCache | str | Path,
    executor: Executor | None = None,
    on_done: Callable[[str], None] | None = None,
) -> CohortRun:
    """Features of every source, from the cache or computed, as one lazy cohort.

    Parameters
    ----------
    sources
        Session sources (see :class:`SessionSource`), in cohort order.
    config
        Run configuration; its ``preprocess``, ``windows`` and ``features``
        sections shape the features and the cache keys.
    cache
        The cache or its folder. Temporary entries left by killed writers are
        removed first (see :meth:`~biosig.cache.FeatureCache.clean_orphans`).
    executor
        Where missing entries are computed; default serial in this process.
    on_done
        Called with each source's name once it is cached, computed or skipped.

    Returns
    -------
    CohortRun

    Raises
    ------
    DataError
        If every source was skipped, two kept sources share a subject id, or
        subjects differ in channels, bands, features or EEG rate.
    """
    start = time.time()
    t0 = time.perf_counter()
    cache = cache if isinstance(cache, FeatureCache) else FeatureCache(cache)
    removed = cache.clean_orphans(older_than=start - ORPHAN_AGE_S)
    if removed:
        logger.info("removed %d temporary cache entries left by killed runs", len(removed))
    keys: list[str | None] = []  # per source; None when its identity failed
    cached: list[str] = []
    skipped: list[Skipped] = []
    tasks: list[_Task] = []
    for source in sources:
        try:
            identity = source.identity()
            key = entry_key(identity, config)
        except BiosigError as exc:
            keys.append(None)
            _skip(skipped, Skipped(source.name, "identity", f"{type(exc).__name__}: {exc}"), on_done)
            continue
        keys.append(key)
        if cache.has(key):
            cached.append(source.name)
            if on_done is not None:
                on_done(source.name)
        else:
            tasks.append(_Task(source, identity, key, config, cache.root))
    executor = executor or Executor()
    computed: list[str] = []
    failed: set[str] = set()
    for outcome in executor.map(_compute, tasks):
        if outcome.skipped is None:
            computed.append(outcome.name)
            if on_done is not None:
                on_done(outcome.name)
        else:
            failed.add(outcome.key)
            _skip(skipped, outcome.skipped, on_done)
    t_compute = time.perf_counter() - t0

    kept = [k for k in keys if k is not None and k not in failed]
    if not kept:
        reasons = "; ".join(f"{s.name}: {s.error}" for s in skipped)
        raise DataError(f"the cohort has no sessions: all {len(keys)} sources were skipped ({reasons})")
    results = [cache.open(k) for k in kept]
    _check_unique_subjects(results)
    for result in results[1:]:
        _check_compatible(results[0], result)
    features = xr.concat([r.features for r in results], dim="window", join="exact", combine_attrs="override")
    features = features.assign_coords(window=np.arange(features.sizes["window"]))
    return CohortRun(
        features=features,
        results=results,
        session_info={r.subject: cache.meta(k)["session_info"] for r, k in zip(results, kept)},
        computed=computed,
        cached=cached,
        skipped=skipped,
        cache_dir=cache.root,
        executor=executor.describe(),
        timings_s={"compute": t_compute, "open": time.perf_counter() - t0 - t_compute},
    )


def _skip(skipped: list[Skipped], entry: Skipped, on_done: Callable[[str], None] | None) -> None:
    skipped.append(entry)
    logger.warning("skipped %s (%s): %s", entry.name, entry.stage, entry.error)
    if on_done is not None:
        on_done(entry.name)


def _check_unique_subjects(results: list[SessionResult]) -> None:
    seen: set[str] = set()
    for r in results:
        if r.subject in seen:
            raise DataError(
                f"subject id {r.subject} comes from two sources; give each source of a cohort its own subject id"
            )
        seen.add(r.subject)


def run_cohort(
    config: RunConfig,
    report_dir: Path,
    on_done: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> CohortRun:
    """:func:`process_cohort` on the configured sources, cache and executor.

    The cache folder is ``cache.dir``, or ``<report_dir>/cache`` when only
    ``cache.workers`` or ``cache.scheduler`` is set. The executor follows
    ``cache.workers``/``cache.scheduler`` unless one is given.
    """
    settings = config.cache
    cache_dir = Path(settings.dir) if settings.dir is not None else Path(report_dir) / "cache"
    sources = sources_from_config(config, Path(report_dir) / "data")
    if executor is not None:
        return process_cohort(sources, config, cache_dir, executor, on_done)
    with Executor(workers=settings.workers, scheduler=settings.scheduler) as own:
        return process_cohort(sources, config, cache_dir, own, on_done)


def uses_cohort_cache(config: RunConfig) -> bool:
    """Whether the main job goes through the cache (any ``cache`` setting away from its default)."""
    c = config.cache
    return c.dir is not None or c.workers > 1 or c.scheduler is not None

