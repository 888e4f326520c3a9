"""``--set dotted.key=value``: command-line overrides applied to a config's mapping before validation.

Every command that reads a YAML config takes ``--set KEY=VALUE`` (repeatable).
:func:`parse_override` splits one argument at its first ``=``: the key is a
dotted path (``source.synthetic.n_subjects``; an integer part indexes a list,
``models.0.epochs``) and the value is read as YAML, as if it stood in the file
(``3`` is an int, ``[condition]`` a list, ``{name: logreg}`` a mapping,
``/data/x`` a string, an empty value null). :func:`apply_overrides` writes the
values into the mapping read from the file, so validation and its messages are
the file's; :func:`mark_override_lines` then says which lines of such a message
come from ``--set``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from biosig.errors import ConfigError


@dataclass(frozen=True)
class Override:
    """One ``--set`` argument: the key path it sets and the value read from it as YAML."""

    #: The argument as given, e.g. ``"train.epochs=3"`` (error messages quote it).
    argument: str
    #: Parts of the dotted key, e.g. ``("train", "epochs")``.
    path: tuple[str, ...]
    #: The value as YAML reads it (int, float, str, list, dict, bool or None).
    value: Any

    @property
    def key(self) -> str:
        """The dotted key, e.g. ``"train.epochs"``."""
        return ".".join(self.path)


def parse_override(argument: str) -> Override:
    """Read one ``KEY=VALUE`` argument of ``--set``.

    Raises :class:`ConfigError` naming the argument when it has no ``=``, an
    empty key or an empty key part (``a..b``), or a value that is not YAML.
    """
    key, sep, text = argument.partition("=")
    key = key.strip()
    if not sep:
        raise ConfigError(f"--set {argument!r}: expected KEY=VALUE (e.g. --set train.epochs=3), found no '='")
    if not key:
        raise ConfigError(f"--set {argument!r}: the key before '=' is empty (e.g. --set train.epochs=3)")
    path = tuple(part.strip() for part in key.split("."))
    if not all(path):
        raise ConfigError(f"--set {argument!r}: key {key!r} has an empty part; write dotted names like source.root")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {argument!r}: the value is not valid YAML: {exc}") from None
    return Override(argument=argument, path=path, value=value)


def parse_overrides(arguments: Iterable[str]) -> tuple[Override, ...]:
    """:func:`parse_override` for each ``--set`` argument, in the order given (a later one wins)."""
    return tuple(parse_override(argument) for argument in arguments)


def apply_overrides(data: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A copy of ``data`` with each override's value at its key path; ``data`` itself is not changed.

    Missing sections on the way are created. Only the containers on each key's
    path are copied, so a value the file shares through a YAML alias changes
    only where the key points. Raises :class:`ConfigError` naming the argument
    when the path runs through a value that is not a section, indexes a list
    with something other than an in-range integer, or indexes a list the file
    does not hold.
    """
    result = dict(data)
    for override in overrides:
        _set_path(result, override)
    return result


def _set_path(root: dict[str, Any], override: Override) -> None:
    container: dict[str, Any] | list[Any] = root
    for depth, part in enumerate(override.path):
        where = ".".join(override.path[:depth]) or "the config"
        last = depth == len(override.path) - 1
        if isinstance(container, list):
            index = _list_index(container, part, where, override)
            child = override.value if last else _copied(container[index], override, depth)
            container[index] = child
        else:
            if last:
                container[part] = override.value
                return
            if part not in container or container[part] is None:
                if override.path[depth + 1].lstrip("-").isdigit():
                    key = ".".join(override.path[: depth + 1])
                    raise ConfigError(
                        f"--set {override.argument!r}: {key} is not in the file, so it has no entry to index; "
                        f"set the whole list instead (--set {key}=[...])"
                    )
                child = {}
            else:
                child = _copied(container[part], override, depth)
            container[part] = child
        if not last:
            container = child


def _copied(value: Any, override: Override, depth: int) -> dict[str, Any] | list[Any]:
    """A shallow copy of the section at ``override.path[: depth + 1]``, or a ConfigError if it is a plain value."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    where = ".".join(override.path[: depth + 1])
    raise ConfigError(
        f"--set {override.argument!r}: {where} holds {value!r}, not a section or list, so it has no key "
        f"{override.path[depth + 1]!r}"
    )


def _list_index(items: list[Any], part: str, where: str, override: Override) -> int:
    """The list index that key part ``part`` names (negative counts from the end), or a ConfigError."""
    try:
        index = int(part)
    except ValueError:
        raise ConfigError(
            f"--set {override.argument!r}: {where} is a list; index it with an integer (e.g. {where}.0), not {part!r}"
        ) from None
    if not -len(items) <= index < len(items):
        raise ConfigError(
            f"--set {override.argument!r}: {where} has {len(items)} entries, so there is no entry {index}"
        )
    return index


def mark_override_lines(message: str, overrides: Sequence[Override]) -> str:
    """``message`` with `` (from --set ARG)`` after each line about a key that an override set or lies under.

    Lines of a validation message start with a key path (``  source.foo: unknown key; ...``,
    ``  train.models moved to models``); a line whose key is an override's key, or
    a section above or below it, is marked with the last such override.
    """
    lines = message.split("\n")
    for i, line in enumerate(lines):
        key = line.strip().split(":", 1)[0].split(" ", 1)[0]
        hits = [o for o in overrides if _related(key, o.key)]
        if key and hits:
            lines[i] = f"{line} (from --set {hits[-1].argument})"
    return "\n".join(lines)


def _related(a: str, b: str) -> bool:
    """Whether dotted keys ``a`` and ``b`` are equal or one is a section above the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")
