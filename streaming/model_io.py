"""Models for the live pipeline: checkpoints and what the pipeline needs to know about their inputs.

A live model is one or more zoo models (:mod:`graphs.models`) plus the
input definition they were trained on. It is stored in the trainer's
checkpoint format (:func:`graphs.training.trainer.save_checkpoint`: tensors
and a JSON string, read with ``torch.load(weights_only=True)``), one file per
model, with these metadata keys (:func:`live_metadata` writes them):

==================  ===========================================================================
key                 meaning
==================  ===========================================================================
``model``           registry name (``histn``, ``dgcnn``, ``eegnet``, ``logreg_de``)
``hparams``         the model config in JSON form (``ModelConfig.model_dump(mode="json")``;
                    ``model_config`` as ``biosig train`` writes it is read too)
``target``          ``valence`` or ``arousal``: the target of a classifier or of a one-output
                    regression model; or
``targets``         ``["valence", "arousal"]`` for a regression model with one output per target
``task``            ``binary``, ``five_class`` or ``regression`` (``biosig train --export``)
``scale``           rating of each class for the expected value (default ``[1..5]`` for
                    ``task: five_class``, ``[0, 1]`` for ``task: binary``, else class indices)
``rating_range``    regression models (required): ``[low, high]`` of the rating scale. Such a
                    model outputs ``(rating - centre) / half_range`` (centre ``(low + high) / 2``,
                    half range ``(high - low) / 2``, :func:`biosig.evaluation.labels.regression_targets`);
                    live, its value is the rating ``centre + half_range * output`` (not clipped)
                    and its confidence NaN
``channels``        EEG channels in model order
``sfreq``           sampling rate of the model's inputs in Hz (a stream at another rate is
                    resampled to it)
``window``          ``{"length": s, "hop": s}``; raw-input models need ``length * sfreq == n_times``
                    (else ``train_config.windows`` of ``biosig train``)
``features``        :class:`~biosig.config.FeatureConfig` as a mapping (bands of DE inputs)
``preprocess``      ``{"filter": FilterConfig mapping, "reference": "average" | [names] | null}``;
                    ``null`` means the model was trained on unfiltered EEG
``peripheral``      models with ECG/EDA nodes (hparams ``peripheral``): ``{"seconds": s, "nodes":
                    {"ecg": [feature names], "eda": [...]}}``, the span of the features ending
                    with each window (``train.windows.peripheral_seconds``) and the features of
                    each node in column order (:data:`PERIPHERAL_FEATURES`; the live pipeline
                    needs a stream per node)
``normalization``   optional; inputs are ``(x - offset) / scale`` per channel, ``x`` the
                    window after the live chain (filters, resampling, reference, ICA) in
                    volts. Fixed:
                    ``{"offset": [...], "scale": [...]}`` (V). Calibrated (``biosig train
                    --export`` writes it): ``{"calibrate": true, "max_scale": [...]}``, which
                    needs a calibration before it streams; calibrating adds ``offset`` (rest
                    mean, V), ``scale`` (rest standard deviation x ``max_scale``, V) and
                    ``calibration`` (where the rest came from: ``source``, ``start`` s,
                    ``seconds``, ``samples``, and ``peripheral_tiles``). With ``peripheral``,
                    also ``peripheral_offset``: ``{"ecg": [...], "eda": [...]}``, the rest's
                    ECG/EDA level (units of :mod:`biosig.features.peripheral`; ``null`` = no
                    usable tile, that feature stays missing), subtracted from each window's
                    features before the model; a fixed normalisation may give it too
                    (default: features go in as measured)
==================  ===========================================================================

Every model of a live model must agree on the input keys (channels, rate,
window, features, preprocessing, normalisation); a disagreement is a
:class:`~biosig.errors.ConfigError` naming the key and both files.

**Calibration.** ``biosig train`` z-scores each trial against the middle of
its own pre-trial baseline and divides raw inputs by each record's channel
maximum (:mod:`graphs.training.windows_dataset`); neither exists live, where
there are no trials and the future is unknown. Their causal stand-ins:

==========================  ===========================  ================================================
training                    live                         where
==========================  ===========================  ================================================
baseline mean, std of the   ``offset``, ``scale``: mean  :mod:`streaming.calibrate`, from a rest file
trial (per channel)         and std of a rest recording  (``biosig calibrate``) or the first seconds of
                            at the start of the session  the stream (``biosig stream --calibrate S``)
                            after the live chain (causal
                            filters, resampling,
                            reference, ICA)
record max |z| (raw inputs  ``max_scale``: fixed factor  :mod:`streaming.export`: harmonic mean
only)                       per channel, measured on     over training records of max |z| (ones for DE
                            the training records         inputs)
ECG/EDA baseline level of   ``peripheral_offset``: the   :mod:`streaming.calibrate`, the same rest: mean
the trial (peripheral       same level measured on the   of the features over back-to-back
nodes only)                 calibration rest             ``peripheral.seconds`` tiles, NaN tiles left out
                                                         (:func:`~graphs.training.windows_dataset.baseline_level`)
==========================  ===========================  ================================================

A checkpoint with ``calibrate: true`` and no ``offset`` (or, with
``peripheral``, no ``peripheral_offset``) is refused by
:func:`load_live_model` (a :class:`~biosig.errors.ConfigError` naming the
file and both ways to calibrate) unless the caller calibrates it from the
stream (``allow_uncalibrated``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import ConfigError
from biosig.evaluation.labels import ratings_from_targets
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from graphs.models import EEGModel, build_model
from graphs.training.trainer import load_checkpoint, save_checkpoint

#: Targets the live pipeline predicts, in the order of the affect outlet's channels.
LIVE_TARGETS: tuple[str, ...] = ("valence", "arousal")

InputKind = Literal["raw", "de"]
_INPUT_OF_DIMS: dict[tuple[str, ...], InputKind] = {("channel", "time"): "raw", ("channel", "band"): "de"}
_TASK_SCALES: dict[str, list[float]] = {"five_class": [1.0, 2.0, 3.0, 4.0, 5.0], "binary": [0.0, 1.0]}

#: Peripheral signals the live pipeline computes features of (a model's peripheral nodes), and the names
#: of those features in column order (:mod:`biosig.features.peripheral`).
PERIPHERAL_FEATURES: dict[str, tuple[str, ...]] = {"ecg": ECG_FEATURES, "eda": EDA_FEATURES}


@dataclass(frozen=True)
class LiveSpec:
    """What the live pipeline does to a stream before the model sees it.

    Attributes
    ----------
    channels
        EEG channel names in model order.
    sfreq
        Sampling rate, Hz.
    window
        Window length and hop, seconds.
    filter
        Notch and band-pass (causal IIR), or None for no filtering.
    reference
        ``"average"``, reference channel names, or None.
    features
        Bands (Hz) of the DE inputs and asymmetry pairs.
    offset, scale
        Per-channel normalisation ``(x - offset) / scale`` in volts, ``(n_channels,)``; None for none.
    calibrate
        The normalisation comes from a calibration rest recording (module
        docstring): ``offset`` is its mean and ``scale`` its standard
        deviation times ``max_scale``; both None until calibrated.
    max_scale
        Fixed per-channel factor of a calibrated normalisation, ``(n_channels,)``
        (unitless; None when ``calibrate`` is false).
    peripheral_seconds
        Span of the ECG/EDA features ending with each window, s, that the
        models with peripheral nodes were trained on; None: none said.
    peripheral_nodes
        Peripheral signals (``"ecg"``, ``"eda"``) whose features the models
        take; with ``calibrate``, the calibration measures their rest level.
    peripheral_offset
        Per node, the level subtracted from its features ``(n_features,)``
        (units of :mod:`biosig.features.peripheral`, NaN: no usable rest tile,
        the feature stays missing); None: features go in as measured (a
        calibrated spec with ``peripheral_nodes`` still needs a calibration).
    """

    channels: tuple[str, ...]
    sfreq: float
    window: WindowConfig
    filter: FilterConfig | None
    reference: str | tuple[str, ...] | None
    features: FeatureConfig
    offset: np.ndarray | None = None
    scale: np.ndarray | None = None
    calibrate: bool = False
    max_scale: np.ndarray | None = None
    peripheral_seconds: float | None = None
    peripheral_nodes: tuple[str, ...] = ()
    peripheral_offset: dict[str, np.ndarray] | None = None

    @property
    def n_window(self) -> int:
        """Samples per window."""
        return int(round(self.window.length * self.sfreq))

    @property
    def needs_calibration(self) -> bool:
        """Whether the normalisation still waits for a calibration rest recording (EEG or ECG/EDA)."""
        peripheral_missing = bool(self.peripheral_nodes) and self.peripheral_offset is None
        return self.calibrate and (self.offset is None or peripheral_missing)

    def with_hop(self, hop: float) -> LiveSpec:
        """The same spec with another hop in seconds (the hop is a live choice, not a trained one)."""
        return replace(self, window=WindowConfig(length=self.window.length, hop=hop))

    def calibrated(
        self, mean: np.ndarray, std: np.ndarray, peripheral: Mapping[str, np.ndarray] | None = None
    ) -> LiveSpec:
        """The spec normalised by a rest recording's per-channel ``mean`` and ``std`` (V, ``(n_channels,)``).

        ``peripheral`` is the rest's level of each of :attr:`peripheral_nodes`,
        ``(n_features,)`` per node (NaN: no usable tile).

        Raises
        ------
        ConfigError
            The spec's normalisation is not a calibrated one (fixed or none),
            or a peripheral node's level is missing or of the wrong length.
        """
        if not self.calibrate:
            raise ConfigError(
                "the model's normalisation is not calibrated from a rest recording (its metadata has no "
                "normalization.calibrate: true); there is nothing to calibrate"
            )
        levels = None
        if self.peripheral_nodes:
            given = peripheral or {}
            levels = {kind: np.asarray(given.get(kind, ()), dtype=float) for kind in self.peripheral_nodes}
            wrong = [kind for kind, level in levels.items() if level.shape != (len(PERIPHERAL_FEATURES[kind]),)]
            if wrong:
                raise ConfigError(
                    f"the model has {'/'.join(k.upper() for k in self.peripheral_nodes)} nodes; the calibration "
                    f"gives no {'/'.join(k.upper() for k in wrong)} rest level ({', '.join(wrong)} features)"
                )
        factor = np.ones(len(self.channels)) if self.max_scale is None else self.max_scale
        return replace(
            self, offset=np.asarray(mean, dtype=float), scale=np.asarray(std, dtype=float) * factor,
            peripheral_offset=levels,
        )  # fmt: skip

    def as_metadata(self) -> dict[str, Any]:
        """The input keys of the checkpoint metadata (module docstring)."""
        meta: dict[str, Any] = {
            "channels": list(self.channels),
            "sfreq": float(self.sfreq),
            "window": self.window.model_dump(mode="json"),
            "features": self.features.model_dump(mode="json"),
            "preprocess": None
            if self.filter is None and self.reference is None
            else {
                "filter": None if self.filter is None else self.filter.model_dump(mode="json"),
                "reference": list(self.reference) if isinstance(self.reference, tuple) else self.reference,
            },
        }
        if self.peripheral_seconds is not None:
            nodes = {kind: list(PERIPHERAL_FEATURES[kind]) for kind in self.peripheral_nodes}
            meta["peripheral"] = {"seconds": float(self.peripheral_seconds), "nodes": nodes}
        norm: dict[str, Any] | None = None
        if self.calibrate:
            n = len(self.channels)
            norm = {"calibrate": True}
            norm["max_scale"] = [float(v) for v in (np.ones(n) if self.max_scale is None else self.max_scale)]
            if self.offset is not None and self.scale is not None:
                norm.update(offset=[float(v) for v in self.offset], scale=[float(v) for v in self.scale])
        elif self.offset is not None or self.scale is not None or self.peripheral_offset is not None:
            n = len(self.channels)
            offset = np.zeros(n) if self.offset is None else self.offset
            scale = np.ones(n) if self.scale is None else self.scale
            norm = {"offset": [float(v) for v in offset], "scale": [float(v) for v in scale]}
        if norm is not None and self.peripheral_offset is not None:
            # null for NaN: the metadata stays standard JSON.
            norm["peripheral_offset"] = {
                kind: [float(v) if np.isfinite(v) else None for v in level]
                for kind, level in self.peripheral_offset.items()
            }
        if norm is not None:
            meta["normalization"] = norm
        return meta


@dataclass
class TargetModel:
    """One model and the targets it predicts.

    Attributes
    ----------
    model
        A zoo model in eval mode.
    targets
        ``("valence",)`` for a classifier of one target, or the targets of a
        regression model's outputs in order.
    scale
        Rating of each class (classifiers), ``(n_classes,)``; None for regression.
    source
        Where the model came from (a checkpoint path), for messages.
    rating_range
        Regression models: ``(low, high)`` of the rating scale their outputs
        on [-1, 1] map back to (:meth:`ratings`); None for classifiers.
    input
        ``"raw"``: the model takes the window ``(n_channels, n_times)``;
        ``"de"``: differential entropy ``(n_channels, n_bands)`` of the window.

    Raises
    ------
    ConfigError
        A regression model without ``rating_range`` (the message names the source).
    """

    model: EEGModel
    targets: tuple[str, ...]
    scale: np.ndarray | None
    source: str = "model"
    rating_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.model.config.output != "classes" and self.rating_range is None:
            raise ConfigError(
                f"{self.source}: a regression model outputs its ratings rescaled to [-1, 1]; the metadata lacks "
                "'rating_range' ([low, high] of the rating scale, train.rating_range) to map them back"
            )

    def ratings(self, values: np.ndarray) -> np.ndarray:
        """A regression model's outputs on [-1, 1] as ratings, ``centre + half_range * values`` (not clipped)."""
        assert self.rating_range is not None
        return ratings_from_targets(values, self.rating_range)

    @property
    def input(self) -> InputKind:
        """What the model takes (see the attributes)."""
        kind = _INPUT_OF_DIMS.get(tuple(self.model.input_dims))
        if kind is None:
            raise ConfigError(
                f"{self.source}: {type(self.model).__name__} takes {self.model.input_dims} inputs; the live pipeline "
                "feeds raw windows (channel, time) or differential entropy (channel, band)"
            )
        return kind


@dataclass
class LiveModel:
    """Models predicting valence and arousal from one input definition.

    Attributes
    ----------
    spec
        The input definition every model shares.
    models
        The models; together they cover :data:`LIVE_TARGETS` at most once
        each. A target no model covers is output as NaN.
    """

    spec: LiveSpec
    models: list[TargetModel] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for entry in self.models:
            for target in entry.targets:
                if target not in LIVE_TARGETS:
                    raise ConfigError(f"{entry.source}: target {target!r} is not one of {list(LIVE_TARGETS)}")
                if target in seen:
                    raise ConfigError(f"target {target!r} is predicted by both {seen[target]} and {entry.source}")
                seen[target] = entry.source
            entry.model.eval()
            _check_input(entry, self.spec)

    @property
    def targets(self) -> tuple[str, ...]:
        """Targets some model predicts."""
        return tuple(t for entry in self.models for t in entry.targets)


def _check_input(entry: TargetModel, spec: LiveSpec) -> None:
    model, kind = entry.model, entry.input
    nodes = peripheral_nodes(model)
    if nodes and spec.peripheral_seconds is None and spec.calibrate:
        raise ConfigError(
            f"{entry.source}: {type(model).__name__} has peripheral nodes {dict(nodes)} but the checkpoint does not "
            "say over which span their ECG/EDA features were trained (metadata 'peripheral', written by "
            "biosig train --export)"
        )
    if nodes and spec.peripheral_seconds is not None:
        known = {k: len(PERIPHERAL_FEATURES[k]) for k in spec.peripheral_nodes}
        unfed = [k for k, n in nodes if known.get(k) != n]
        if unfed:
            raise ConfigError(
                f"{entry.source}: {type(model).__name__} has peripheral nodes {dict(nodes)}; the live input "
                f"(metadata 'peripheral') has {known}"
            )
    order = getattr(model, "channels", None)
    if order is not None and [ch.casefold() for ch in order] != [ch.casefold() for ch in spec.channels]:
        raise ConfigError(
            f"{entry.source}: {type(model).__name__} takes channels {list(order)} in this order, "
            f"but the live channels are {list(spec.channels)}"
        )
    expected = (len(spec.channels), spec.n_window if kind == "raw" else len(spec.features.bands))
    if tuple(model.input_shape) != expected:
        what = "channels x samples per window" if kind == "raw" else "channels x bands"
        raise ConfigError(
            f"{entry.source}: {type(model).__name__} expects input {tuple(model.input_shape)} but the live input "
            f"({what}: {len(spec.channels)} channels, window {spec.window.length} s at {spec.sfreq} Hz, "
            f"{len(spec.features.bands)} bands) is {expected}"
        )


def peripheral_nodes(model: Any) -> tuple[tuple[str, int], ...]:
    """``((kind, n_features), ...)`` of a model with peripheral nodes (config ``peripheral``), else empty."""
    return tuple(getattr(model.config, "peripheral", ()) or ())


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
    """Checkpoint metadata of one live model (keys in the module docstring).

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


def save_live_checkpoint(path: str | Path, model: EEGModel, metadata: Mapping[str, Any]) -> Path:
    """Save ``model`` with ``metadata`` (from :func:`live_metadata`) in the trainer's checkpoint format."""
    return save_checkpoint(path, model, dict(metadata))


def load_live_model(
    paths: str | Path | Sequence[str | Path], *, hop: float | None = None, allow_uncalibrated: bool = False
) -> LiveModel:
    """Load one checkpoint per model into a :class:`LiveModel`.

    Parameters
    ----------
    paths
        Checkpoint files (``torch.load(weights_only=True)``), e.g. a valence
        and an arousal classifier.
    hop
        Window hop in seconds for the live run; default: the checkpoints' hop.
    allow_uncalibrated
        Accept checkpoints that still need a calibration (the caller
        calibrates the returned model's spec, e.g. from the stream).

    Raises
    ------
    DataError
        A file is missing or not a checkpoint.
    ConfigError
        Metadata keys missing or invalid, the checkpoints disagree on the
        input (the message names the key and the files), or they need a
        calibration and ``allow_uncalibrated`` is false.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise ConfigError("no checkpoint given: the live pipeline needs at least one model")
    entries: list[TargetModel] = []
    spec: LiveSpec | None = None
    first_source, first_meta = "", {}
    for path in paths:
        state, meta = load_checkpoint(path)
        source = str(path)
        this_spec = spec_from_metadata(meta, source)
        shared = this_spec.as_metadata()
        if spec is None:
            spec, first_source, first_meta = this_spec, source, shared
        else:
            for key in sorted(set(shared) | set(first_meta)):
                if shared.get(key) != first_meta.get(key):
                    raise ConfigError(
                        f"checkpoints {first_source} and {source} disagree on {key!r}: "
                        f"{first_meta.get(key)!r} vs {shared.get(key)!r}"
                    )
        entries.append(_target_model(meta, state, source))
    assert spec is not None
    if spec.needs_calibration and not allow_uncalibrated:
        files = " ".join(str(p) for p in paths)
        raise ConfigError(
            f"{files}: the model needs a calibration (its normalisation is the statistics of a rest recording "
            f"of the live session): run `biosig calibrate {files} --from REST_RECORDING --out DIR` and stream "
            "the calibrated copies, or calibrate from the stream's first seconds of rest with "
            "`biosig stream --calibrate 60`"
        )
    if hop is not None:
        spec = spec.with_hop(hop)
    return LiveModel(spec, entries)


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
    return None if windows is None else {"length": windows["length"], "hop": windows["hop"]}


def spec_from_metadata(meta: Mapping[str, Any], source: str = "checkpoint") -> LiveSpec:
    """The :class:`LiveSpec` described by checkpoint metadata (module docstring).

    Checkpoints of ``biosig train``'s folds name the model config
    ``model_config`` and keep the window in ``train_config.windows``; both are
    accepted. They do not record the channels, the sampling rate, the
    normalisation (training z-scores each trial against its own baseline: live,
    a calibration stands in, module docstring) nor, when their windows were
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
    sfreq = float(meta["sfreq"])
    norm = meta.get("normalization")
    offset, scale, calibrate, max_scale = _normalization(norm, len(channels), source)
    seconds, nodes = _peripheral(meta.get("peripheral"), source)
    levels = _peripheral_offset(norm.get("peripheral_offset") if isinstance(norm, Mapping) else None, nodes, source)
    return LiveSpec(
        channels, sfreq, window, filt, reference, features, offset, scale, calibrate, max_scale, seconds, nodes, levels
    )


def _peripheral(value: Any, source: str) -> tuple[float | None, tuple[str, ...]]:
    """``peripheral_seconds`` and ``peripheral_nodes`` of the ``peripheral`` metadata (module docstring)."""
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
    """``offset``, ``scale``, ``calibrate`` and ``max_scale`` of the ``normalization`` metadata (module docstring)."""
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


def _target_model(meta: Mapping[str, Any], state: dict, source: str) -> TargetModel:
    hparams = dict(_hparams(meta))
    model = build_model(meta["model"], **hparams)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ConfigError(f"{source}: weights do not fit model {meta['model']!r} with its hparams: {exc}") from None
    model.eval()
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
