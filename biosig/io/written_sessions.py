"""Reuse session files a run has already written, when they provably hold the same session.

The main job writes each synthetic session as EDF + CSV and reads it back
(``source.via_files``); the deep models of the same run need the same
sessions again. Generating and writing a demo subject costs about 3.7 s,
reading it back 0.25 s, so a second pass reads the files when a manifest
written beside them says they came from the same source identity and every
file still has the SHA-256 recorded when it was written. Anything else (no
manifest, another identity, a changed, missing or damaged file, an
unreadable manifest) means the files are not reused: the caller regenerates
and rewrites them, so nothing stale or damaged is ever read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from biosig.io.files import read_session_files
from biosig.session import Session

#: Manifest of one subject's written files: ``<subject>_written.json`` beside them.
MANIFEST_SUFFIX = "_written.json"


def manifest_path(folder: Path, subject: str) -> Path:
    """Where the manifest of ``subject``'s files in ``folder`` lives."""
    return Path(folder) / f"{subject}{MANIFEST_SUFFIX}"


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def record_written_session(
    folder: Path, subject: str, identity: Mapping[str, Any], info: Mapping[str, Any], files: Mapping[str, Path]
) -> None:
    """Write the manifest (atomically) after ``files`` were written for the source ``identity``.

    ``info`` is the generated session's ``info`` (ground truth that the files
    do not hold). When it is not JSON-serialisable no manifest is written and
    the files are simply never reused.
    """
    try:
        info = json.loads(json.dumps(dict(info)))
    except (TypeError, ValueError):
        return
    manifest = {
        "identity": dict(identity),
        "info": info,
        "files": {kind: {"name": Path(p).name, "sha256": _sha256(Path(p))} for kind, p in files.items()},
    }
    target = manifest_path(folder, subject)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".tmp-{subject}", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest, f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def reuse_written_session(folder: Path, subject: str, identity: Mapping[str, Any]) -> Session | None:
    """The session read from ``folder`` when its manifest matches ``identity`` and every file its hash, else None.

    The returned session's ``info`` is the recorded generation info updated
    with what reading found (as a fresh write-and-read would give).
    """
    try:
        manifest = json.loads(manifest_path(folder, subject).read_text(encoding="utf-8"))
        if manifest.get("identity") != json.loads(json.dumps(dict(identity))):
            return None
        for entry in manifest["files"].values():
            if _sha256(Path(folder) / entry["name"]) != entry["sha256"]:
                return None
        info = dict(manifest["info"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    session = read_session_files(Path(folder), subject)
    session.info = {**info, **session.info}
    return session
