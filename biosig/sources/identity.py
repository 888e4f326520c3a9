"""What identifies a source's input for the cache key: its files and the trial and label sections.

:func:`file_identity` describes one input file; :func:`trial_sections_identity`
the ``trials`` and ``labels`` sections of a run together with the tables they
name, so that editing a label table or an ``event_id`` changes the key of
every source that applies them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from biosig.config import LabelsConfig, TrialsConfig
from biosig.errors import DataError

#: Files up to this size are identified by a SHA-256 of their content, larger ones by path, size and mtime.
CONTENT_HASH_MAX_BYTES = 1 << 20


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


def trial_sections_identity(trials: TrialsConfig, labels: LabelsConfig) -> dict[str, Any]:
    """The ``trials`` and ``labels`` sections as JSON, with :func:`file_identity` of the tables they read."""
    tables = [trials.table.path if trials.table else None, labels.ratings.path if labels.ratings else None]
    return {
        "trials": trials.model_dump(mode="json", by_alias=True),
        "labels": labels.model_dump(mode="json"),
        "tables": [file_identity(p) for p in tables if p is not None],
    }
