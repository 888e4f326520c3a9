"""The inputs of the deep models of a run: which input each model takes, built once per windows setting.

:func:`model_inputs` builds, once, the inputs every given model needs
(:mod:`graphs.training.windows_dataset`; rows aligned, so all the models share
the folds). Models that share one ``windows`` setting share one set of inputs
(:func:`windows_groups`). A model with peripheral nodes (hyper-parameter
``peripheral``) gets the pair ``(x, peripheral features)`` of the same rows
(:func:`spec_inputs`). A model from elsewhere (``"package.module:Class"``,
:mod:`graphs.models.external`) takes raw windows; its signal parameters come
from them (:func:`model_hparams`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from biosig.config import ModelSpec, PreprocessConfig, TrainWindowConfig
from biosig.errors import ConfigError, DataError
from biosig.session import Session
from graphs.models import MODELS, build_model, is_external, make_config, model_class
from graphs.models.external import signal_hparams
from graphs.training.trainer import Inputs
from graphs.training.windows_dataset import (
    INPUT_DIMS,
    PERIPHERAL_NODES,
    WindowSet,
    WindowSettings,
    cohort_windows,
)


def input_kind(model_name: str) -> str:
    """Which input (``raw``, ``de``, ``topomap``) a model takes, from its ``input_dims`` (external models: ``raw``)."""
    if model_name not in MODELS and not is_external(model_name):
        raise ConfigError(
            f"models: unknown model {model_name!r}; registered: logreg, {', '.join(sorted(MODELS))}, "
            "or 'package.module:Class'"
        )
    dims = model_class(model_name).input_dims
    for kind, kind_dims in INPUT_DIMS.items():
        if kind_dims == dims:
            return kind
    raise ConfigError(f"model {model_name!r} takes input {dims}, which no input builder makes")


def check_models(models: Sequence[ModelSpec]) -> None:
    """Refuse an empty list, a model listed twice, a feature model or a name the zoo lacks."""
    names = [s.name for s in models]
    if not names:
        raise ConfigError("models lists no deep model")
    if len(set(names)) != len(names):
        raise ConfigError(f"models lists a model twice: {names}; results are keyed by model name")
    for spec in models:
        if spec.is_feature_model:
            raise ConfigError(f"models: {spec.name} runs on window features, not on deep-model windows")
        input_kind(spec.name)


def windows_groups(models: Sequence[ModelSpec]) -> list[tuple[TrainWindowConfig, tuple[ModelSpec, ...]]]:
    """The deep models grouped by their input windows, in the order of first appearance."""
    groups: dict[TrainWindowConfig, list[ModelSpec]] = {}
    for spec in models:
        groups.setdefault(spec.input_windows, []).append(spec)
    return [(windows, tuple(specs)) for windows, specs in groups.items()]


def shared_windows(models: Sequence[ModelSpec]) -> TrainWindowConfig:
    """The input windows of ``models``, which must all have the same."""
    groups = windows_groups(models)
    if len(groups) != 1:
        names = [[s.name for s in specs] for _, specs in groups]
        raise ConfigError(f"models {names} have different windows; build their inputs group by group")
    return groups[0][0]


def model_inputs(
    sessions: Iterable[Session], models: Sequence[ModelSpec], preprocess: PreprocessConfig | None = None
) -> dict[str, WindowSet]:
    """Inputs of every kind the given deep models need, rows aligned (the models share their ``windows``).

    The channel order is that of the models that name one (HiSTN's
    hierarchy), else the recording's. ``preprocess`` is applied when the
    windows' ``preprocess`` is set. Models with peripheral nodes need
    ``windows.peripheral_seconds`` and the nodes of
    :data:`~graphs.training.windows_dataset.PERIPHERAL_NODES`.
    """
    check_models(models)
    w = shared_windows(models)
    orders = set()
    for spec in models:
        if is_external(spec.name):
            continue  # its signal parameters follow the data: any channel order, no peripheral nodes
        probe = build_model(spec.name, **spec.hparams)
        if hasattr(probe, "channels"):
            orders.add(tuple(probe.channels))
        nodes = getattr(probe.config, "peripheral", ())
        if nodes and nodes != PERIPHERAL_NODES:
            raise ConfigError(
                f"models: {spec.name} has peripheral nodes {dict(nodes)}; the peripheral inputs are {dict(PERIPHERAL_NODES)}"
            )
        if nodes and w.peripheral_seconds is None:
            raise ConfigError(f"models: {spec.name} has peripheral nodes; set its windows.peripheral_seconds")
    if len(orders) > 1:
        raise ConfigError(f"models expect different channel orders: {sorted(orders)}")
    if w.preprocess and preprocess is None:
        raise ConfigError("windows.preprocess is set but no preprocess section was given")
    settings = WindowSettings(
        length=w.length,
        hop=w.hop,
        record_seconds=w.record_seconds,
        baseline_seconds=w.baseline_seconds,
        max_normalize=w.max_normalize,
        channels=orders.pop() if orders else None,
        preprocess=preprocess if w.preprocess else None,
        peripheral_seconds=w.peripheral_seconds,
    )
    return cohort_windows(sessions, sorted({input_kind(s.name) for s in models}), settings)


def model_hparams(spec: ModelSpec, data: WindowSet) -> dict[str, Any]:
    """The hyper-parameters a model is built with on ``data``: ``spec.hparams``, and the data's signal parameters.

    The signal parameters (channels, samples, sampling rate in Hz,
    ``chs_info``; :func:`graphs.models.external.signal_hparams`) are those of
    ``data``'s raw windows, for an external model only.
    """
    if not is_external(spec.name):
        return dict(spec.hparams)
    _, n_chans, n_times = data.x.shape
    return signal_hparams(n_chans, n_times, data.sfreq, data.ch_names) | dict(spec.hparams)


def spec_inputs(data: WindowSet, spec: ModelSpec) -> Inputs:
    """A model's inputs: ``data.x``, or ``(data.x, data.peripheral)`` for a model with peripheral nodes.

    Raises
    ------
    DataError
        The model has peripheral nodes but ``data`` carries no peripheral features.
    """
    if is_external(spec.name) or not getattr(make_config(spec.name, **spec.hparams), "peripheral", ()):
        return data.x
    if data.peripheral is None:
        raise DataError(
            f"model {spec.name} has peripheral nodes but the inputs have no peripheral features; "
            "set its windows.peripheral_seconds"
        )
    return data.x, data.peripheral
