"""The loaded live models: zoo models, the targets they predict, and the input they share.

:class:`TargetModel` is one model with its targets (and, for a regression
model, the rating scale its outputs map back to); :class:`LiveModel` is the
models of a live session with their shared :class:`~streaming.model_io.spec.LiveSpec`,
each checked against it when built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from biosig.errors import ConfigError
from biosig.evaluation.labels import ratings_from_targets
from graphs.models import EEGModel
from streaming.model_io.spec import PERIPHERAL_FEATURES, LiveSpec

#: Targets the live pipeline predicts, in the order of the affect outlet's channels.
LIVE_TARGETS: tuple[str, ...] = ("valence", "arousal")

InputKind = Literal["raw", "de"]
_INPUT_OF_DIMS: dict[tuple[str, ...], InputKind] = {("channel", "time"): "raw", ("channel", "band"): "de"}


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
