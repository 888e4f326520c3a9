"""``source.pattern`` of ``kind: files``: a glob whose ``{name}`` fields are captured from each path.

``"Subject{subject}_{session}.edf"`` finds ``Subject00_1.edf`` with the fields
``{"subject": "00", "session": "1"}``; ``"sub-{subject}/**/*.xdf"`` finds
every XDF below each subject folder. A field matches one or more characters
within a path component (no ``/``); a field named twice must capture the
same text both times. Glob syntax otherwise: ``*`` (within a component),
``**`` (any number of folders), ``?`` and ``[...]``. A matched path may be a
folder that is one recording (an Empatica E4 export, biosig's own session
files): ``"Raw_data/S{subject}"``.
"""

from __future__ import annotations

import re
from pathlib import Path

from biosig.errors import ConfigError

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_GLOB_TOKEN = re.compile(r"\*\*/|\*\*|\*|\?|\[[^\]/]*\]")


def pattern_glob(pattern: str) -> str:
    """The glob that finds the candidate files: every ``{name}`` field becomes ``*``."""
    return _FIELD.sub("*", pattern)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression that captures the fields from a path relative to the root (``/``-separated)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _FIELD.finditer(pattern):
        parts.append(_glob_to_regex(pattern[position : match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>[^/]+?)")
        seen.add(name)
        position = match.end()
    parts.append(_glob_to_regex(pattern[position:]))
    return re.compile("".join(parts))


def match_files(root: Path, pattern: str) -> list[tuple[Path, dict[str, str]]]:
    """The files (or recording folders) under ``root`` matching ``pattern``, sorted, each with its captured fields.

    Raises
    ------
    ConfigError
        ``root`` is not a folder, the pattern is absolute or climbs out of
        ``root``, no file matches (naming root and pattern), or a matching
        file's fields cannot be captured (naming the path as well).
    """
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise ConfigError(f"source.pattern {pattern!r} must be relative to source.root and stay inside it")
    if not root.is_dir():
        raise ConfigError(f"source.root {root} is not a folder (kind: files reads the files under it)")
    regex = pattern_regex(pattern)
    paths = sorted(p for p in root.glob(pattern_glob(pattern)) if p.is_file() or p.is_dir())
    if not paths:
        raise ConfigError(f"source.pattern {pattern!r} matches no file or folder under source.root {root}")
    found = []
    for path in paths:
        match = regex.fullmatch(path.relative_to(root).as_posix())
        if match is None:
            raise ConfigError(
                f"{path}: matches the glob of source.pattern {pattern!r} under source.root {root} but its fields "
                f"{sorted(set(_FIELD.findall(pattern)))} cannot be captured from it"
            )
        found.append((path, match.groupdict()))
    return found


def _glob_to_regex(text: str) -> str:
    """A regex for glob ``text``: ``**/`` any folders, ``*`` and ``?`` within a component, ``[...]`` as is."""
    out: list[str] = []
    position = 0
    for token in _GLOB_TOKEN.finditer(text):
        out.append(re.escape(text[position : token.start()]))
        glob = token.group(0)
        if glob == "**/":
            out.append("(?:[^/]+/)*")
        elif glob == "**":
            out.append(".*")
        elif glob == "*":
            out.append("[^/]*")
        elif glob == "?":
            out.append("[^/]")
        else:
            body = glob[1:-1]
            out.append("[^" + body[1:] + "]" if body.startswith("!") else glob)
        position = token.end()
    out.append(re.escape(text[position:]))
    return "".join(out)
