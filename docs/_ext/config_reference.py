"""Sphinx extension: the run-configuration reference, generated from the pydantic models at build time.

``.. config-reference:: biosig.config.RunConfig`` walks the model's fields
recursively (nested sections, ``tuple[Section, ...]`` lists such as
``models``, ``Section | None`` options) and writes one table per section:
every key with its dotted YAML path, type, default, constraints and
description. Where a field has no ``description`` the table says so and the
section's docstring (printed above its table) explains it. Because it reads
the schema when the docs are built, the reference follows whatever the
schema becomes; nothing is written by hand.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import PurePath
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_CONSTRAINTS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "min_length": "min length", "max_length": "max length"}


def import_object(dotted: str) -> type[BaseModel]:
    """The pydantic model named ``package.module.Class``."""
    module, _, name = dotted.rpartition(".")
    model = getattr(importlib.import_module(module), name)
    if not (inspect.isclass(model) and issubclass(model, BaseModel)):
        raise TypeError(f"{dotted} is not a pydantic model")
    return model


def type_name(annotation: Any) -> str:
    """A YAML-reader's name of a field's type: ``float | null``, ``list[str]``, ``"fir" | "iir"``."""
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a).replace("'", '"') for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list[{type_name(args[0])}]"
        return "[" + ", ".join(type_name(a) for a in args) + "]"
    if origin in (list, set, frozenset):
        return f"list[{type_name(args[0])}]" if args else "list"
    if origin is dict:
        return f"mapping[{type_name(args[0])}, {type_name(args[1])}]" if args else "mapping"
    if annotation is Any:
        return "any"
    if inspect.isclass(annotation):
        if issubclass(annotation, BaseModel):
            return f"section {annotation.__name__}"
        if issubclass(annotation, PurePath):
            return "path"
        if issubclass(annotation, Enum):
            return " | ".join(repr(m.value) for m in annotation)
        return {"str": "str", "int": "int", "float": "float", "bool": "bool"}.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _plain(value: Any) -> Any:
    """A default as YAML would hold it (tuples as lists, paths as strings, models as mappings)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def default_text(info: FieldInfo) -> str:
    """The field's default as YAML-like text; ``required`` when it has none."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(section defaults)"
    text = _yaml_scalar(_plain(value))
    return text if len(text) <= 120 else text[:117] + "..."


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in value.items()) + "}"
    return repr(value)


def constraints_text(info: FieldInfo) -> str:
    """The field's numeric and length bounds, e.g. ``> 0, <= 1``."""
    parts = []
    for item in info.metadata:
        for attr, sign in _CONSTRAINTS.items():
            bound = getattr(item, attr, None)
            if bound is not None:
                parts.append(f"{sign} {bound}")
    return ", ".join(parts)


def nested_models(annotation: Any) -> Iterator[tuple[type[BaseModel], bool]]:
    """The pydantic models a field's type holds, each with whether it is a list of them."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        yield annotation, False
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from nested_models(arg)
    elif origin in (tuple, list) and args:
        for model, _ in nested_models(args[0]):
            yield model, True


def sections(model: type[BaseModel], path: str = "") -> Iterator[tuple[str, type[BaseModel]]]:
    """``(dotted path, model)`` of the model and every section below it, depth first, in field order."""
    yield path, model
    for name, info in model.model_fields.items():
        for sub, is_list in nested_models(info.annotation):
            child = f"{path}.{name}" if path else name
            yield from sections(sub, child + ("[]" if is_list else ""))


def _cell(text: str) -> str:
    """One list-table cell: a single line of inline text (``|`` and newlines made safe)."""
    return " ".join(text.split()) or "--"


def _section_summary(annotation: Any) -> str:
    """For a field holding a section: the first line of that section's docstring and a pointer to its table."""
    for model, _ in nested_models(annotation):
        first = (inspect.getdoc(model) or "").strip().splitlines()
        return (first[0] + " " if first else "") + "(its table below)"
    return ""


def section_rst(path: str, model: type[BaseModel]) -> list[str]:
    """reStructuredText of one section: title, docstring, and a table of its keys."""
    title = f"``{path}``" if path else "Top level"
    lines = [title, "~" * (len(title) + 4), ""]
    doc = inspect.getdoc(model) or ""
    if doc and model is not BaseModel:
        lines += [f"Model :class:`{model.__module__}.{model.__qualname__}`.", ""]
        lines += doc.splitlines() + [""]
    lines += [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 22 18 12 26",
        "",
        "   * - key",
        "     - type",
        "     - default",
        "     - bounds",
        "     - description",
    ]
    for name, info in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        description = info.description or _section_summary(info.annotation) or "(see the section text above)"
        lines += [
            f"   * - ``{key}``",
            f"     - ``{_cell(type_name(info.annotation))}``",
            f"     - ``{_cell(default_text(info))}``",
            f"     - {_cell(constraints_text(info))}",
            f"     - {_cell(description)}",
        ]
    return lines + [""]


def reference_rst(dotted: str) -> list[str]:
    """The whole reference of the model named ``dotted``, as reStructuredText lines."""
    lines: list[str] = []
    for path, model in sections(import_object(dotted)):
        lines += section_rst(path, model)
    return lines


class ConfigReference(SphinxDirective):
    """``.. config-reference:: package.module.Model``: tables of every key of the model and its sections."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        source = self.get_source_info()[0]
        content = StringList(reference_rst(self.arguments[0]), source=source)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("config-reference", ConfigReference)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
