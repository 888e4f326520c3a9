"""What a cohort run produced and the account it gives of itself: kept, computed, cached, skipped
and damaged subjects, channels left out, notes and NaN features per subject (:class:`CohortRun` and
its JSON-ready :meth:`CohortRun.summary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from biosig.pipeline import SessionResult


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


@dataclass(frozen=True)
class Damaged:
    """A source whose cache entry was damaged or incomplete, so it was recomputed instead of read.

    ``file`` is the damaged file's path, ``problem`` what was wrong with it
    (missing, truncated, content differs from its checksum...).
    """

    name: str
    file: str
    problem: str


@dataclass
class CohortRun:
    """What :func:`~biosig.cohort.process_cohort` produced.

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
    damaged
        Sources whose cache entry failed verification (they are recomputed,
        so they are also in ``computed`` or ``skipped``).
    removed_temporary
        Temporary files and entries left by killed runs and removed by this one.
    dropped_channels
        Subject -> EEG channels left out because another subject lacks them.
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
    damaged: list[Damaged] = field(default_factory=list)
    removed_temporary: list[str] = field(default_factory=list)
    dropped_channels: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready account of the run: counts, what was skipped or damaged and why, where, how long.

        Also, per kept subject: the EEG channels left out (``dropped_channels``),
        the preprocessing and feature notes (``notes``: asymmetry pairs the
        montage lacks, windows dropped...) and the features with NaN windows
        (``nan_features``: subject -> feature -> ``n_nan``, ``n_windows``,
        ``reasons``; see :func:`~biosig.features.extract.nan_counts`).
        """
        return {
            "n_sources": len(self.computed) + len(self.cached) + len(self.skipped),
            "n_subjects": len(self.results),
            "n_windows": int(self.features.sizes["window"]),
            "computed": self.computed,
            "cached": self.cached,
            "skipped": [vars(s) for s in self.skipped],
            "damaged": [vars(d) for d in self.damaged],
            "removed_temporary": self.removed_temporary,
            "dropped_channels": self.dropped_channels,
            **_notes_and_nan_features(self.results),
            "cache_dir": str(self.cache_dir),
            "executor": self.executor,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


def results_account(results: list[SessionResult], features: xr.Dataset) -> dict[str, Any]:
    """The per-subject part of :meth:`CohortRun.summary` for a cohort computed without the cache.

    ``results`` are the subjects' own results (before they were stacked) and
    ``features`` the stacked cohort; a subject's ``dropped_channels`` are its
    channels the cohort does not have. Nothing is skipped on this path: a
    failing subject stops it.
    """
    kept = set(features["channel"].values.tolist()) if "channel" in features.coords else set()
    dropped = {}
    for r in results:
        own = r.features["channel"].values.tolist() if "channel" in r.features.coords else []
        if lost := [c for c in own if c not in kept]:
            dropped[r.subject] = lost
    return {
        "n_subjects": len(results),
        "n_windows": int(features.sizes["window"]),
        "skipped": [],
        "dropped_channels": dropped,
        **_notes_and_nan_features(results),
    }


def _notes_and_nan_features(results: list[SessionResult]) -> dict[str, Any]:
    """Per subject with any: its preprocessing and feature notes, and its features with NaN windows."""
    return {
        "notes": {r.subject: list(r.log.notes) for r in results if r.log.notes},
        "nan_features": {r.subject: nan for r in results if (nan := r.nan_features())},
    }
