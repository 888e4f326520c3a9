"""Live checkpoint metadata (keys in :mod:`streaming.model_io`): written for a model, read back.

:func:`live_metadata` writes every key of one live model;
:func:`spec_from_metadata` reads the input keys into a
:class:`~streaming.model_io.spec.LiveSpec` (``biosig train`` checkpoints
included), and :func:`target_model` builds the model with its targets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import ConfigError
from graphs.models.base import model_for_weights
from streaming.model_io.models import TargetModel
from streaming.model_io.spec import PERIPHERAL_FEATURES, LiveSpec

_TASK_SCALES: dict[str, list[float]] = {"five_class": [1.0, 2.0, 3.0, 4.0, 5.0], "binary": [0.0, 1.0]}


def live_metadata(
    name: str,
    hparams: Mapping[str, Any],
    spec: LiveSpec,
    *,
    target: str | None = None,
    targets: Sequence[str] | None = None,
    scale: Sequence[float] | None = None,
    rating_range: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Checkpoint metadata of one live model (keys in :mod:`streaming.model_io`).

    ``hparams`` may hold config objects (e.g. a ``RegionHierarchy``); they
    are stored in the JSON form of the model's config. ``rating_range``
    ``(low, high)`` is required for a regression model (``output:
    regression``), whose outputs are ratings rescaled to [-1, 1].

    Raises
    ------
    ConfigError
        Both or neither of ``target``/``targets``, or a regression model without ``rating_range``.
    """
    if (target is None) == (targets is None):
        raise ConfigError("give exactly one of target (a classifier) or targets (a regression model)")
    from graphs.models import make_config

    config = make_config(name, **hparams)
    meta: dict[str, Any] = {"model": name, "hparams": config.model_dump(mode="json")}
    if target is not None:
        meta["target"] = target
    else:
        meta["targets"] = list(targets or ())
    if scale is not None:
        meta["scale"] = [float(v) for v in scale]
    if rating_range is not None:
        meta["rating_range"] = [float(v) for v in rating_range]
    elif config.output != "classes":
        raise ConfigError(f"{name}: a regression model's checkpoint needs rating_range (its outputs are on [-1, 1])")
    return {**meta, **spec.as_metadata()}



def _hparams(meta: Mapping[str, Any]) -> Any:
    """The model config: ``hparams``, or ``model_config`` as ``biosig train`` names it."""
    return meta.get("hparams", meta.get("model_config"))


def _train_windows(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``train_config.windows`` of a ``biosig train`` checkpoint, else None."""
    train = meta.get("train_config")
    windows = train.get("windows") if isinstance(train, Mapping) else None
    return windows if isinstance(windows, Mapping) else None


def _window(meta: Mapping[str, Any]) -> Any:
    """``window``, or the ``length``/``hop`` of ``train_config.windows`` (``biosig train``)."""
    if "window" in meta:
        return meta["window"]
    windows = _train_windows(meta)
    return None if windows is None else {"length": windows.get("length"), "hop": windows.get("hop")}


def spec_from_metadata(meta: Mapping[str, Any], source: str = "checkpoint") -> LiveSpec:
    """The :class:`~streaming.model_io.spec.LiveSpec` described by checkpoint metadata (:mod:`streaming.model_io`).

    Checkpoints of ``biosig train``'s folds name the model config
    ``model_config`` and keep the window in ``train_config.windows``; both are
    accepted. They do not record the channels, the sampling rate, the
    normalisation (training z-scores each trial against its own baseline: live,
    a calibration stands in, :mod:`streaming.model_io`) nor, when their windows were
    preprocessed, the filters: those must be added (:func:`live_metadata`
    writes every key; ``biosig train --export`` writes such checkpoints), else
    a :class:`ConfigError` lists them.
    """
    found = {"model": meta.get("model"), "hparams": _hparams(meta), "channels": meta.get("channels"),
             "sfreq": meta.get("sfreq"), "window": _window(meta)}  # fmt: skip
    missing = [key for key, value in found.items() if value is None]
    trained = _train_windows(meta)
    if trained is not None:
        # biosig train z-scores each trial against its own baseline (and may divide by the record's
        # maximum): nothing causal reproduces that live, so the checkpoint must say how it is normalised
        # (fixed statistics, or a calibration).
        if "normalization" not in meta:
            missing.append("normalization")
        if trained.get("preprocess") and "preprocess" not in meta:
            missing.append("preprocess")
    if missing:
        raise ConfigError(f"{source}: checkpoint metadata lacks {missing} (the live pipeline needs them)")
    _check_types(found, source)
    try:
        window = WindowConfig.model_validate(found["window"])
        features = FeatureConfig.model_validate(meta.get("features") or {})
        preprocess = meta.get("preprocess")
        filt = None
        reference: str | tuple[str, ...] | None = None
        if preprocess is not None:
            if not isinstance(preprocess, Mapping):
                raise ConfigError(f"{source}: metadata 'preprocess' must be a mapping or null")
            if preprocess.get("filter") is not None:
                filt = FilterConfig.model_validate(preprocess["filter"])
            ref = preprocess.get("reference")
            reference = tuple(ref) if isinstance(ref, list | tuple) else ref
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid checkpoint metadata: {exc}") from None
    if reference not in (None, "average") and not isinstance(reference, tuple):
        raise ConfigError(
            f"{source}: preprocess.reference must be 'average', a list of channels or null; got {reference!r}"
        )
    channels = tuple(str(ch) for ch in meta["channels"])
    sfreq = float(found["sfreq"])
    norm = meta.get("normalization")
    offset, scale, calibrate, max_scale = _normalization(norm, len(channels), source)
    seconds, nodes = _peripheral(meta.get("peripheral"), source)
    levels = _peripheral_offset(norm.get("peripheral_offset") if isinstance(norm, Mapping) else None, nodes, source)
    return LiveSpec(
        channels, sfreq, window, filt, reference, features, offset, scale, calibrate, max_scale, seconds, nodes, levels
    )


def _check_types(found: Mapping[str, Any], source: str) -> None:
    """Refuse a ``model``, ``hparams``, ``channels`` or ``sfreq`` of the wrong type; the message names the key."""
    if not isinstance(found["model"], str):
        raise ConfigError(f"{source}: metadata 'model' must be a model name, got {found['model']!r:.80}")
    if not isinstance(found["hparams"], Mapping):
        raise ConfigError(
            f"{source}: metadata 'hparams' must be a mapping of hyper-parameters, got {found['hparams']!r:.80}"
        )
    channels = found["channels"]
    if not isinstance(channels, list | tuple) or not channels or any(isinstance(ch, list | dict) for ch in channels):
        raise ConfigError(f"{source}: metadata 'channels' must be a list of channel names, got {channels!r:.80}")
    sfreq = found["sfreq"]
    if isinstance(sfreq, bool) or not isinstance(sfreq, int | float) or not (math.isfinite(sfreq) and sfreq > 0):
        raise ConfigError(f"{source}: metadata 'sfreq' must be a positive number of Hz, got {sfreq!r:.80}")


def _peripheral(value: Any, source: str) -> tuple[float | None, tuple[str, ...]]:
    """``peripheral_seconds`` and ``peripheral_nodes`` of the ``peripheral`` metadata (:mod:`streaming.model_io`)."""
    if value is None:
        return None, ()
    seconds = value.get("seconds") if isinstance(value, Mapping) else None
    nodes = value.get("nodes") if isinstance(value, Mapping) else None
    if not isinstance(seconds, int | float) or not seconds > 0 or not isinstance(nodes, Mapping):
        raise ConfigError(
            f"{source}: metadata 'peripheral' must be {{'seconds': s > 0, 'nodes': {{kind: [features]}}}}"
        )
    for kind, names in nodes.items():
        if kind not in PERIPHERAL_FEATURES or list(names) != list(PERIPHERAL_FEATURES[kind]):
            raise ConfigError(
                f"{source}: peripheral node {kind!r} with features {names}; the live pipeline computes "
                f"{ {k: list(v) for k, v in PERIPHERAL_FEATURES.items()} }"
            )
    return float(seconds), tuple(nodes)


def _peripheral_offset(value: Any, nodes: tuple[str, ...], source: str) -> dict[str, np.ndarray] | None:
    """``normalization.peripheral_offset``: one level per node, ``null`` read as NaN."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != set(nodes):
        raise ConfigError(
            f"{source}: normalization.peripheral_offset needs one level per peripheral node {list(nodes)} "
            "(metadata 'peripheral')"
        )
    out = {}
    for kind in nodes:
        level = value[kind]
        n = len(PERIPHERAL_FEATURES[kind])
        try:
            array = np.array([np.nan if v is None else v for v in level], dtype=float)
        except (TypeError, ValueError):
            array = np.empty(0)
        if array.shape != (n,) or np.isinf(array).any():
            raise ConfigError(f"{source}: normalization.peripheral_offset.{kind} needs {n} numbers or nulls")
        out[kind] = array
    return out


def _normalization(
    norm: Any, n: int, source: str
) -> tuple[np.ndarray | None, np.ndarray | None, bool, np.ndarray | None]:
    """``offset``, ``scale``, ``calibrate`` and ``max_scale`` of the ``normalization`` metadata.

    Keys and meaning: :mod:`streaming.model_io`.
    """
    if norm is None:
        return None, None, False, None
    if not isinstance(norm, Mapping):
        raise ConfigError(f"{source}: metadata 'normalization' must be a mapping or null")

    def vector(key: str, default: float, positive: bool) -> np.ndarray:
        value = norm.get(key)
        if value is None:
            return np.full(n, default)
        try:
            out = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            out = np.empty(0)
        if out.shape != (n,) or not np.isfinite(out).all() or (positive and not (out > 0).all()):
            kind = "positive" if positive else "finite"
            raise ConfigError(f"{source}: normalization.{key} needs {n} {kind} values (one per channel)")
        return out

    calibrate = bool(norm.get("calibrate", False))
    max_scale = vector("max_scale", 1.0, positive=True) if calibrate else None
    if calibrate and norm.get("offset") is None and norm.get("scale") is None:
        return None, None, True, max_scale
    return vector("offset", 0.0, positive=False), vector("scale", 1.0, positive=True), calibrate, max_scale


def target_model(meta: Mapping[str, Any], state: dict, source: str) -> TargetModel:
    """The model of one checkpoint (metadata ``meta``, weights ``state``) with its targets and rating scale.

    Raises
    ------
    ConfigError
        The hparams are out of bounds or do not fit the weights (checked
        before the model is built, :func:`graphs.models.base.model_for_weights`), or ``target``/``targets``, ``scale``
        or ``rating_range`` are missing or do not fit its outputs (the
        message names ``source``).
    """
    model = model_for_weights(meta["model"], _hparams(meta), state, source)
    classes = model.config.output == "classes"
    if "target" in meta:
        if not classes and model.config.n_outputs != 1:
            raise ConfigError(f"{source}: a regression model with {model.config.n_outputs} outputs needs 'targets'")
        targets: tuple[str, ...] = (str(meta["target"]),)
    elif "targets" in meta:
        targets = tuple(str(t) for t in meta["targets"])
        if classes:
            raise ConfigError(f"{source}: 'targets' is for regression models; a classifier predicts one 'target'")
        if len(targets) != model.config.n_outputs:
            raise ConfigError(f"{source}: {len(targets)} targets for {model.config.n_outputs} regression outputs")
    else:
        raise ConfigError(f"{source}: checkpoint metadata names no 'target' (classifier) or 'targets' (regression)")
    scale = None
    rating_range = None
    if classes:
        values = meta.get("scale") or _TASK_SCALES.get(str(meta.get("task")))
        scale = np.asarray(values if values is not None else np.arange(model.config.n_outputs), dtype=float)
        if scale.shape != (model.config.n_outputs,):
            raise ConfigError(f"{source}: scale has {scale.size} ratings for {model.config.n_outputs} classes")
    elif meta.get("rating_range") is not None:
        try:
            low, high = (float(v) for v in meta["rating_range"])
        except (TypeError, ValueError):
            low = high = math.nan
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigError(
                f"{source}: rating_range must be [low, high] with low < high, got {meta['rating_range']!r}"
            )
        rating_range = (low, high)
    return TargetModel(model, targets, scale, source, rating_range)
