"""Cohort orchestration: session sources -> verified per-subject cache entries -> one lazy cohort.

:func:`process_cohort` looks each source (:mod:`biosig.cohort_sources`) up in
the :class:`~biosig.cache.FeatureCache`, checks every entry found against its
checksums, computes the missing and damaged ones with an
:class:`~biosig.executor.Executor` (each worker loads, preprocesses, extracts
features and writes the entry itself, so only a small record travels back),
then opens every entry lazily and concatenates them along ``window``
(channels common to all subjects, :mod:`biosig.cohort_merge`). A
damaged or incomplete entry is never read: it is reported (subject, file) in
:attr:`CohortRun.damaged` and the log, discarded and recomputed.

A :class:`~biosig.errors.BiosigError` raised while loading or processing one
source skips that source; :attr:`CohortRun.skipped` and
:meth:`CohortRun.summary` (:mod:`biosig.cohort_summary`) say which and why.
Other exceptions are bugs and stop the run; what was already cached stays
cached, so a rerun resumes.

Leftovers of killed runs are removed at the start of the next one: temporary
cache entries (:meth:`~biosig.cache.FeatureCache.clean_orphans`) and the
``.tmp-*`` files of session files being written (:func:`remove_stale_temporary_files`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biosig.cache import ORPHAN_AGE_S, FeatureCache, entry_key
from biosig.cohort_merge import merge_results
from biosig.cohort_sources import (
    CONTENT_HASH_MAX_BYTES,
    CallableSource,
    SessionFilesSource,
    SessionSource,
    SyntheticSource,
    file_identity,
    sources_from_config,
)
from biosig.cohort_summary import CohortRun, Damaged, Skipped
from biosig.config import RunConfig
from biosig.errors import BiosigError, DataError
from biosig.executor import Executor
from biosig.pipeline import SessionResult, session_features

__all__ = [
    "CONTENT_HASH_MAX_BYTES",
    "CallableSource",
    "CohortRun",
    "Damaged",
    "SessionFilesSource",
    "SessionSource",
    "Skipped",
    "SyntheticSource",
    "file_identity",
    "process_cohort",
    "remove_stale_temporary_files",
    "run_cohort",
    "sources_from_config",
    "uses_cohort_cache",
]

logger = logging.getLogger(__name__)

#: A ``.tmp-*`` session file last modified this long before a run started has no live writer:
#: writers rename it as soon as its last byte is written (see :func:`remove_stale_temporary_files`).
STALE_TEMPORARY_FILE_S = 10.0


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
        Session sources (see :class:`~biosig.cohort_sources.SessionSource`), in cohort order.
    config
        Run configuration; its ``preprocess``, ``windows`` and ``features``
        sections shape the features and the cache keys.
    cache
        The cache or its folder. Temporary entries left by killed writers are
        removed first (see :meth:`~biosig.cache.FeatureCache.clean_orphans`),
        and so are stale ``.tmp-*`` files in the folders synthetic sources
        write session files to (see :func:`remove_stale_temporary_files`).
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
        If every source was skipped, two kept sources share a subject id,
        subjects have no EEG channel in common, or differ in bands, features
        or EEG rate (:func:`~biosig.cohort_merge.merge_results`).
    """
    start = time.time()
    t0 = time.perf_counter()
    sources = list(sources)
    cache = cache if isinstance(cache, FeatureCache) else FeatureCache(cache)
    removed = cache.clean_orphans(older_than=start - ORPHAN_AGE_S)
    for folder in sorted({s.files_dir for s in sources if isinstance(s, SyntheticSource) and s.files_dir}):
        removed += remove_stale_temporary_files(folder, before=start - STALE_TEMPORARY_FILE_S)
    if removed:
        logger.info("removed %d temporary files and cache entries left by killed runs", len(removed))
    keys: list[str | None] = []  # per source; None when its identity failed
    cached: list[str] = []
    skipped: list[Skipped] = []
    damaged: list[Damaged] = []
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
        if _intact(cache, key, source.name, damaged):
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
    features, dropped = merge_results(results)
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
        damaged=damaged,
        removed_temporary=[str(p) for p in removed],
        dropped_channels=dropped,
    )


def _intact(cache: FeatureCache, key: str, name: str, damaged: list[Damaged]) -> bool:
    """Whether an intact entry ``key`` exists; a damaged or incomplete one is reported and discarded."""
    if not cache.path(key).exists():
        return False
    damage = cache.verify(key)
    if damage is None:
        return True
    entry = Damaged(name, str(cache.path(key) / damage.file), damage.problem)
    damaged.append(entry)
    logger.warning("cache entry of %s is damaged, recomputing it: %s %s", name, entry.file, entry.problem)
    cache.discard(key)
    return False


def remove_stale_temporary_files(folder: Path, before: float) -> list[Path]:
    """Remove the ``.tmp-*`` files in ``folder`` last modified before ``before``; return them.

    Session files are written under a ``.tmp-*`` name and renamed when
    complete (:mod:`biosig.io.files`), so such a file outlives its writer only
    when the writer was killed. The rule for "not in use": the file was not
    modified since ``before`` (a time stamp, s since the epoch), which
    :func:`process_cohort` sets :data:`STALE_TEMPORARY_FILE_S` before its own
    start: a live writer modifies its file until the rename, and this run's
    own writers start after the cleaning. A writer paused longer than that
    (stopped, or on a host whose clock is behind) would lose its file and
    fail; do not share a session-file folder with such a run.
    """
    removed = []
    for path in sorted(Path(folder).glob(".tmp-*")):
        try:
            if path.is_file() and path.stat().st_mtime < before:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # renamed by its writer or removed by another run meanwhile
            continue
    return removed


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
    sources: Sequence[SessionSource] | None = None,
) -> CohortRun:
    """:func:`process_cohort` on the configured sources, cache and executor.

    The cache folder is ``cache.dir``, or ``<report_dir>/cache`` when only
    ``cache.workers`` or ``cache.scheduler`` is set. The executor follows
    ``cache.workers``/``cache.scheduler`` unless one is given; ``sources``
    are :func:`sources_from_config`'s unless the caller already made them.
    """
    settings = config.cache
    cache_dir = Path(settings.dir) if settings.dir is not None else Path(report_dir) / "cache"
    if sources is None:
        sources = sources_from_config(config, Path(report_dir) / "data")
    if executor is not None:
        return process_cohort(sources, config, cache_dir, executor, on_done)
    with Executor(workers=settings.workers, scheduler=settings.scheduler) as own:
        return process_cohort(sources, config, cache_dir, own, on_done)


def uses_cohort_cache(config: RunConfig) -> bool:
    """Whether the main job goes through the cache (any ``cache`` setting away from its default)."""
    c = config.cache
    return c.dir is not None or c.workers > 1 or c.scheduler is not None

