"""Content checksums of feature-cache entries: written last, checked before an entry is used.

An entry's ``checksums.json`` lists every other file of the entry (Zarr
metadata and chunks, the EEG info, ``meta.json``) with its size in bytes and
the SHA-256 of its content. It is written after everything else, so an entry
without it is incomplete. :func:`verify_entry` reads every file of the entry
and reports the first one that is missing, added, truncated or changed. The
manifest holds the SHA-256 of its own file list and must be byte for byte its
canonical form, so a change to it is reported as damage to the manifest
rather than to a file it names. A single changed byte anywhere is therefore always
caught: hashing is exact, not statistical.

Verification reads the whole entry (a default synthetic subject: 650 kB, about
2 ms). Zarr reads chunks later, lazily; an entry changed on disk between the
check and that read is not caught: entries are never rewritten in place
(:class:`~biosig.cache.FeatureCache` commits them by rename), so only outside
interference can change one, and the check before each use keeps that window
to the run itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Name of the manifest inside an entry's folder.
CHECKSUMS = "checksums.json"
_ALGORITHM = "sha256"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Damage:
    """Why an entry may not be used: the file (relative to the entry's folder) and what is wrong with it."""

    file: str
    problem: str


def write_checksums(folder: Path) -> None:
    """Write the manifest of every file below ``folder`` (call it after every other file is written)."""
    files = {rel: {"sha256": digest, "size": size} for rel, (size, digest) in _scan(folder).items()}
    manifest = {"algorithm": _ALGORITHM, "files": files, "files_sha256": _digest(files)}
    (folder / CHECKSUMS).write_bytes(_canonical(manifest))


def verify_entry(folder: Path) -> Damage | None:
    """``None`` when the entry in ``folder`` matches its manifest, else the first problem found.

    Files are compared in sorted order of their relative paths; a missing
    folder reads as a missing manifest.
    """
    try:
        raw = (folder / CHECKSUMS).read_bytes()
    except FileNotFoundError:
        return Damage(CHECKSUMS, "is missing: the entry is incomplete")
    except OSError as exc:
        return Damage(CHECKSUMS, f"cannot be read ({exc})")
    listed = _parse_manifest(raw)
    if listed is None:
        return Damage(CHECKSUMS, "is damaged (not the manifest this cache writes)")
    try:
        actual = _scan(folder, exclude=CHECKSUMS)
    except OSError as exc:
        return Damage(getattr(exc, "filename", None) or ".", f"cannot be read ({exc})")
    for rel in sorted(listed):
        expected = listed[rel]
        if rel not in actual:
            return Damage(rel, "is missing")
        size, digest = actual[rel]
        if size != expected["size"]:
            return Damage(rel, f"has {size} bytes, {expected['size']} were written (truncated or extended)")
        if digest != expected["sha256"]:
            return Damage(rel, "content differs from its checksum")
    extra = sorted(set(actual) - set(listed))
    if extra:
        return Damage(extra[0], "was not written with the entry")
    return None


def _parse_manifest(raw: bytes) -> dict[str, dict[str, Any]] | None:
    try:
        manifest = json.loads(raw.decode("ascii"))
        files = manifest["files"]
        ok = manifest["algorithm"] == _ALGORITHM and isinstance(files, dict) and _canonical(manifest) == raw
        ok = ok and manifest["files_sha256"] == _digest(files)
        ok = ok and all(isinstance(v, dict) and set(v) == {"sha256", "size"} for v in files.values())
    except (ValueError, KeyError, TypeError):
        return None
    return files if ok else None


def _digest(files: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(files)).hexdigest()


def _canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode("ascii")


def _scan(folder: Path, exclude: str | None = None) -> dict[str, tuple[int, str]]:
    """Size (bytes) and SHA-256 (hex) of every file below ``folder``, by POSIX path relative to it."""
    found = {}
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(parent) / name
            rel = path.relative_to(folder).as_posix()
            if rel == exclude:
                continue
            digest = hashlib.sha256()
            size = 0
            with open(path, "rb") as fh:
                while block := fh.read(_BLOCK):
                    digest.update(block)
                    size += len(block)
            found[rel] = (size, digest.hexdigest())
    return found
