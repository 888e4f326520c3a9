"""The whole run's config (:class:`RunConfig`), read from YAML with messages that name the key.

:func:`load_config` reads a file; a bad key or value raises
:class:`~biosig.errors.ConfigError` whose message names the file, the key path
(``preprocess.filter.method``) and the allowed values. A key of the former
two-schema layout (``train.models``, ``evaluation.C``, ...) is refused with a
message saying where it moved (:data:`MOVED_KEYS`).

YAML anchors and aliases are allowed (the shipped configs share a model's
``windows`` that way), but a file whose aliases would expand to more than
:data:`MAX_YAML_NODES` nodes (an "alias bomb") or refer to themselves is
refused before anything is built from it.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from biosig.config.data import (
    CacheConfig,
    FeatureConfig,
    PreprocessConfig,
    ReportConfig,
    SourceConfig,
    StrictSection,
    WindowConfig,
    check_window_schedule,
)
from biosig.config.evaluation import (
    DEFAULT_MODEL_NAMES,
    PROTOCOL_ALIASES,
    EvaluationConfig,
    ModelSpec,
    TrainConfig,
)
from biosig.config.overrides import apply_overrides, mark_override_lines, parse_overrides
from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.errors import ConfigError

#: Keys of the former layout (``biosig run``'s ``evaluation`` and ``biosig train``'s ``train``) -> where they are now.
MOVED_KEYS: dict[str, str] = {
    "evaluation.C": "models (a logreg entry: {name: logreg, hparams: {C: ...}})",
    "evaluation.seed": "evaluation.seeds (a list)",
    "train.models": "models",
    "train.windows": "models (each deep model's windows)",
    "train.protocols": "evaluation.protocols",
    "train.targets": "evaluation.targets",
    "train.tasks": "evaluation.tasks",
    "train.threshold": "evaluation.threshold",
    "train.rating_range": "evaluation.rating_range",
    "train.n_folds": "evaluation.n_folds",
    "train.max_folds": "evaluation.max_folds",
    "train.val_fraction": "evaluation.val_fraction",
    "train.label_correction": "evaluation.label_correction",
    "train.finetune": "evaluation.finetune",
    "train.seed": "evaluation.seeds (a list)",
}


#: Most YAML nodes a config file may hold once its aliases are expanded (shipped configs: a few hundred).
MAX_YAML_NODES = 100_000


def _default_models() -> tuple[ModelSpec, ...]:
    return (ModelSpec(name="logreg", hparams={"C": 0.1}), *(ModelSpec(name=n) for n in DEFAULT_MODEL_NAMES[1:]))


class RunConfig(StrictSection):
    """A whole run, read by ``biosig run`` and ``biosig train`` alike.

    source -> preprocess -> feature ``windows`` and ``features`` (feature
    models) or each deep model's own windows -> every model of ``models``
    scored under ``evaluation`` (deep models trained as ``train`` says) ->
    ``report``.
    """

    name: str = "demo"
    source: SourceConfig = SourceConfig()
    trials: TrialsConfig = TrialsConfig()
    labels: LabelsConfig = LabelsConfig()
    preprocess: PreprocessConfig = PreprocessConfig()
    windows: WindowConfig = WindowConfig()
    features: FeatureConfig = FeatureConfig()
    models: tuple[ModelSpec, ...] = Field(default_factory=_default_models, min_length=1)
    evaluation: EvaluationConfig = EvaluationConfig()
    train: TrainConfig = TrainConfig()
    cache: CacheConfig = CacheConfig()
    report: ReportConfig = ReportConfig()

    @property
    def feature_models(self) -> tuple[ModelSpec, ...]:
        """The models that run on the window features (``logreg``)."""
        return tuple(m for m in self.models if m.is_feature_model)

    @property
    def deep_models(self) -> tuple[ModelSpec, ...]:
        """The models that run on deep-model windows (the zoo's)."""
        return tuple(m for m in self.models if not m.is_feature_model)

    @field_validator("windows")
    @classmethod
    def _feature_windows_bounded(cls, windows: WindowConfig, info: ValidationInfo) -> WindowConfig:
        source, preprocess = info.data.get("source"), info.data.get("preprocess")
        if source is None or preprocess is None:  # already reported
            return windows
        if source.kind != "synthetic":  # trial lengths are known only once the data are read
            return windows
        synthetic, base = source.synthetic, preprocess.baseline
        spans = [(synthetic.stimulus_seconds, "the stimulus")]
        if base.mode == "feature_subtract":
            stop = synthetic.baseline_seconds if base.stop is None else min(base.stop, synthetic.baseline_seconds)
            spans.append((stop - base.start, "the baseline"))
        for duration, what in spans:
            check_window_schedule(windows.length, windows.hop, duration, f"{what} ({duration} s)")
        return windows


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read and validate a YAML run configuration, with ``--set KEY=VALUE`` arguments applied first.

    Relative paths inside the file stay relative to the working directory.
    ``overrides`` are written into the file's mapping before validation
    (:mod:`biosig.config.overrides`), so they are checked as the file is.
    Raises :class:`ConfigError` naming the file and every offending key; a
    line about a key that ``--set`` gave ends with ``(from --set KEY=VALUE)``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    data = _safe_load_bounded(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not {type(data).__name__}")
    parsed = parse_overrides(overrides)
    try:
        return config_from_dict(apply_overrides(data, parsed), origin=str(path))
    except ConfigError as exc:
        if not parsed:
            raise
        raise ConfigError(mark_override_lines(str(exc), parsed)) from None


def _safe_load_bounded(text: str, path: Path) -> Any:
    """``yaml.safe_load`` that refuses a document whose aliases expand past :data:`MAX_YAML_NODES` nodes."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node)
        if size is None:
            raise ConfigError(f"config file {path}: a YAML alias refers to the node that holds it (recursive)")
        if size > MAX_YAML_NODES:
            raise ConfigError(
                f"config file {path}: its YAML aliases expand to more than {MAX_YAML_NODES} nodes "
                "(an alias bomb?); write the values out or use fewer nested aliases"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {path}: YAML nested too deeply") from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int | None:
    """Nodes of ``root`` with every alias expanded, counted without expanding (None: a node contains itself).

    Shared nodes are counted once per reference through a memo, so the count
    costs time linear in the distinct nodes; it stops past :data:`MAX_YAML_NODES`.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            on_path.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            return None
        on_path.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def config_from_dict(data: dict[str, Any], origin: str = "config") -> RunConfig:
    """Validate a plain mapping as a :class:`RunConfig` (see :func:`load_config`)."""
    moved = moved_keys(data)
    if moved:
        raise ConfigError(
            f"{origin}: keys of the former layout (README.md, 'Config keys that moved')\n  " + "\n  ".join(moved)
        )
    models = data.get("models")
    duplicates = _repeated_names(models) if isinstance(models, (list, tuple)) else []
    if duplicates:
        raise ConfigError(f"{origin}: models lists {duplicates} twice; results are keyed by model name")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_describe_error(err) for err in exc.errors()]
        raise ConfigError(f"{origin}: invalid configuration\n  " + "\n  ".join(lines)) from None


def moved_keys(data: dict[str, Any]) -> list[str]:
    """One line per key of ``data`` in the former layout: ``"train.models moved to models"``."""
    lines = []
    for old, new in MOVED_KEYS.items():
        section, key = old.split(".")
        block = data.get(section)
        if not isinstance(block, dict) or key not in block:
            continue
        line = f"{old} moved to {new}"
        if key == "protocols" and isinstance(block[key], (list, tuple)):
            renames = [f"{p} is now {PROTOCOL_ALIASES[p]}" for p in block[key] if p in PROTOCOL_ALIASES]
            if renames:
                line += f" ({'; '.join(renames)})"
        lines.append(line)
    return lines


def _repeated_names(models: list | tuple) -> list[str]:
    names = [m.get("name") for m in models if isinstance(m, dict)]
    return sorted({n for n in names if n is not None and names.count(n) > 1})


def _describe_error(err: dict[str, Any]) -> str:
    loc = tuple(str(p) for p in err["loc"])
    key = ".".join(loc) or "<root>"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{key}: unknown key; allowed keys here are {allowed}"
    msg = err["msg"]
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {msg} (got {err.get('input')!r})"


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    """Field names of the model found at ``parent`` within :class:`RunConfig`."""
    model: Any = RunConfig
    for part in parent:
        if part.isdigit():  # an index into a list of models (models.0)
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = _model_of(fields[part].annotation)
    fields = getattr(model, "model_fields", None)
    return sorted(fields) if fields else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
