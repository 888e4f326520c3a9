"""On-disk cache of per-subject features, keyed by source identity and feature config.

One entry holds one subject's :class:`~biosig.pipeline.SessionResult`::

    <root>/entries/<key>/features.zarr   the feature Dataset (Zarr format 2, consolidated)
    <root>/entries/<key>/eeg-info.fif    the preprocessed EEG's mne.Info (channel positions); none without EEG
    <root>/entries/<key>/meta.json       key inputs, preprocessing log, the session's info
    <root>/entries/<key>/checksums.json  size and SHA-256 of every other file, written last

The key is the SHA-256 of the canonical JSON of the source's identity (for a
file: path, size and mtime, or a content hash; for a synthetic subject: its
generator settings and index) and of the config sections that shape features
(:data:`FEATURE_SECTIONS`), so changing a filter recomputes every subject,
touching one file recomputes that subject alone, and evaluation or report
settings never recompute anything. The package version is in the key, the
code is not: after changing loading, preprocessing or feature code between
releases, bump :data:`CACHE_FORMAT` or delete the cache folder.

Entries are verified before use: :meth:`FeatureCache.verify` checks every
file against ``checksums.json`` (:mod:`biosig.cache_integrity`); a damaged or
incomplete entry is reported by its file, moved aside with
:meth:`FeatureCache.discard` and recomputed, and :meth:`FeatureCache.open`
refuses one.

Writes are atomic: an entry is written in full under ``<root>/tmp/`` (same
file system), flushed to disk, then renamed into ``entries/``. A process killed
at any moment leaves either no entry or a complete one, never a partial one;
readers never look in ``tmp/``, and :meth:`FeatureCache.clean_orphans` removes
what killed writers left there.

Why Zarr format 2: measured on one default synthetic subject (522 windows,
650 kB), Zarr v2 writes in 190 ms and opens+loads in 40 ms; netCDF via
h5netcdf writes in 85 ms and loads in 100 ms, and opening 23 subjects lazily
took 1.1 s (Zarr) against 2.1 s (netCDF). Zarr format 3 has no specified
fixed-width unicode type (our ``subject``/``channel``/``band`` labels) nor
consolidated metadata, and warns on both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mne
import numpy as np
import xarray as xr

from biosig import __version__
from biosig.cache_integrity import CHECKSUMS, Damage, verify_entry, write_checksums
from biosig.config import RunConfig
from biosig.errors import DataError
from biosig.pipeline import SessionResult
from biosig.preprocess.eeg import PreprocessLog

#: Bumped when the layout of an entry or the code behind its features changes, so old entries are never reused.
CACHE_FORMAT = 4
#: Config sections whose values shape the features; the others (evaluation, report...) do not.
FEATURE_SECTIONS: tuple[str, ...] = ("preprocess", "windows", "features")
#: A temporary entry untouched this long before a run started has no live writer (writes take seconds).
ORPHAN_AGE_S = 3600.0

_FEATURES, _INFO, _META = "features.zarr", "eeg-info.fif", "meta.json"


def canonical_json(value: Any) -> str:
    """Compact JSON used for hashing.

    Keys are *not* sorted: pydantic dumps fields in a fixed order, and the
    order of user mappings is meaningful (the order of ``features.bands`` is
    the order of the ``band`` coordinate).
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=_exact_json)


def feature_config(config: RunConfig) -> dict[str, Any]:
    """The :data:`FEATURE_SECTIONS` of a run configuration as plain JSON values."""
    dumped = config.model_dump(mode="json")
    return {section: dumped[section] for section in FEATURE_SECTIONS}


def entry_key(identity: Mapping[str, Any], config: RunConfig) -> str:
    """SHA-256 (hex) of a source identity and the feature-relevant configuration.

    Parameters
    ----------
    identity
        JSON-serialisable description of the source (see module docstring).
    config
        The run configuration; only :data:`FEATURE_SECTIONS` enter the key.
    """
    payload = {
        "format": CACHE_FORMAT,
        "biosig": __version__,
        "source": dict(identity),
        "config": feature_config(config),
    }
    try:
        text = canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise DataError(f"source identity {dict(identity)!r} cannot be hashed: {exc}") from None
    return hashlib.sha256(text.encode()).hexdigest()


class FeatureCache:
    """A folder of per-subject feature entries (see module docstring).

    Parameters
    ----------
    root
        Cache folder, created if needed. Any number of processes, on any host
        sharing the folder, may read and write it at once.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._entries = self.root / "entries"
        self._tmp = self.root / "tmp"
        try:
            self._entries.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cache folder {self.root} cannot be created: {exc}") from None

    def path(self, key: str) -> Path:
        """Folder of the entry ``key`` (it may not exist)."""
        return self._entries / key

    def has(self, key: str) -> bool:
        """Whether a complete entry exists (it has its checksums; entries appear only by an atomic rename).

        Complete is not intact: :meth:`verify` checks the content.
        """
        return (self.path(key) / CHECKSUMS).is_file()

    def keys(self) -> list[str]:
        """Keys of every complete entry, sorted."""
        return sorted(p.name for p in self._entries.iterdir() if (p / CHECKSUMS).is_file())

    def verify(self, key: str) -> Damage | None:
        """``None`` when the entry's files match their checksums, else the first damaged or missing file.

        An entry folder without ``checksums.json`` (or no folder) is incomplete.
        """
        return verify_entry(self.path(key))

    def discard(self, key: str) -> None:
        """Remove the entry ``key`` (a damaged one), first moving it out of ``entries/`` in one rename,
        so no reader finds it half-deleted; a process killed meanwhile leaves an orphan for
        :meth:`clean_orphans`. Nothing happens when the entry is already gone."""
        aside = self._tmp / f"{key}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex}"
        try:
            os.rename(self.path(key), aside)
        except FileNotFoundError:  # another run discarded it first
            return
        shutil.rmtree(aside, ignore_errors=True)

    def write(
        self,
        key: str,
        result: SessionResult,
        source: Mapping[str, Any],
        session_info: Mapping[str, Any] | None = None,
    ) -> Path:
        """Store one subject's result atomically and return the entry's folder.

        Parameters
        ----------
        key
            From :func:`entry_key`.
        result
            The subject's features (numpy- or dask-backed), preprocessing log
            and preprocessed EEG info.
        source
            The source identity the key was made from (kept for inspection).
        session_info
            The session's ``info`` (provenance, ground truth); stored as JSON,
            numpy values as lists, anything else not JSON as its ``str``.

        Notes
        -----
        If another writer commits the same key first, this write is dropped:
        the same key means the same inputs, hence the same features.
        """
        final = self.path(key)
        if self.has(key):
            return final
        tmp = self._tmp / f"{key}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            result.features.to_zarr(tmp / _FEATURES, mode="w-", consolidated=True, zarr_format=2)
            if result.eeg_info is not None:  # None: a session without EEG
                mne.io.write_info(tmp / _INFO, result.eeg_info)
            meta = {
                "format": CACHE_FORMAT,
                "key": key,
                "subject": result.subject,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "n_windows": int(result.features.sizes["window"]),
                # Zarr lists variables alphabetically; keep the pipeline's order.
                "variables": list(result.features.data_vars),
                "source": dict(source),
                "log": dataclasses.asdict(result.log),
                "session_info": dict(session_info or {}),
            }
            (tmp / _META).write_text(json.dumps(meta, indent=1, default=_lossy_json), encoding="utf-8")
            write_checksums(tmp)  # last: an entry without checksums is incomplete
            _fsync_tree(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not self.has(key):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
            _fsync_dir(self._entries)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def meta(self, key: str) -> dict[str, Any]:
        """The entry's ``meta.json`` (key inputs, log, session info)."""
        path = self.path(key) / _META
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cache entry {path.parent} is unreadable ({exc}); delete it to recompute") from None

    def open(self, key: str) -> SessionResult:
        """One subject's result with lazy features, after checking the entry (see :meth:`verify`).

        Data variables are dask arrays (one chunk per stored chunk); the
        coordinates (subject, trial, ratings per window; channel, band...) are
        loaded, so ``groupby``/``sel`` on them work as on in-memory data. The
        EEG info comes back from FIF, which stores channel positions as float32.

        Raises
        ------
        DataError
            If the entry is damaged or incomplete (the message names the file).
        """
        folder = self.path(key)
        damage = self.verify(key)
        if damage is not None:
            raise DataError(f"cache entry {folder}: {damage.file} {damage.problem}; it is not read")
        meta = self.meta(key)
        try:
            features = xr.open_zarr(folder / _FEATURES, chunks={}, consolidated=True)
            info = mne.io.read_info(folder / _INFO, verbose="error") if (folder / _INFO).is_file() else None
        except Exception as exc:  # zarr and MNE fail on damaged files with assorted types (MNE: AttributeError)
            raise DataError(
                f"cache entry {folder} is unreadable ({type(exc).__name__}: {exc}); delete it to recompute"
            ) from None
        features = features[meta["variables"]]
        # One dask call for all coordinates: one per coordinate costs 5x more.
        features = features.assign_coords(features.coords.to_dataset().compute().coords)
        return SessionResult(meta["subject"], features, PreprocessLog(**meta["log"]), info)

    def clean_orphans(self, older_than: float) -> list[Path]:
        """Remove temporary entries whose writer is gone; return what was removed.

        A temporary entry is an orphan when its writer ran on this host and
        that process no longer exists, or when nothing in it changed since
        ``older_than`` (a time stamp, s since the epoch) whatever its host.
        Hosts are told apart by host name: writers in containers that share a
        host name but not a process table must not share a cache folder.
        """
        removed = []
        host = socket.gethostname()
        for tmp in self._tmp.iterdir():
            _key, _, rest = tmp.name.partition(".")
            writer_host, _, pid = rest.rpartition(".")[0].rpartition(".")
            dead = writer_host == host and pid.isdigit() and not _pid_alive(int(pid))
            try:
                stale = _newest_mtime(tmp) < older_than
            except FileNotFoundError:  # another run cleaned it meanwhile
                continue
            if dead or stale:
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
        return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def _newest_mtime(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for parent, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            try:
                newest = max(newest, os.stat(os.path.join(parent, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder below ``folder``, so a rename never commits data still in the page cache."""
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(parent, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(parent))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exact_json(value: Any) -> Any:
    """JSON form of the numpy and path values an identity may hold; anything else is refused,
    as its ``str`` may differ between processes (memory addresses) and break the key."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} value {value!r} has no canonical JSON form")


def _lossy_json(value: Any) -> Any:
    try:
        return _exact_json(value)
    except TypeError:
        return list(value) if isinstance(value, (set, frozenset)) else str(value)
