"""The model zoo's shared base: typed hyper-parameters, registry, parameter table, ``predict``.

Every model is an :class:`EEGModel` built from a frozen pydantic config
(:class:`ModelConfig` subclass) and registered under a name in :data:`MODELS`.
Models return raw scores ``(n_batch, n_outputs)``: logits for
``output="classes"`` (train with cross-entropy; :func:`predict` applies the
softmax) or values for ``output="regression"`` (one per target).

Max-norm weight constraints (HiSTN, EEGNet) are not parametrisations: as in
Keras they rescale the weights after each optimiser step, so the trainer calls
:meth:`EEGModel.apply_constraints` right after ``optimizer.step()``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import nn

from biosig.errors import ConfigError, DataError

from .layers import max_norm_

OutputKind = Literal["classes", "regression"]


class ModelConfig(BaseModel):
    """Hyper-parameters every model has: the output head.

    Attributes
    ----------
    n_outputs
        Classes (``output="classes"``: 5 for ratings 1..5 as classes 0..4, 2
        for binary) or regression targets (``output="regression"``).
    output
        ``"classes"``: logits for a softmax; ``"regression"``: one value per target.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    n_outputs: int = Field(5, ge=1)
    output: OutputKind = "classes"

    @model_validator(mode="after")
    def _two_classes_at_least(self) -> ModelConfig:
        if self.output == "classes" and self.n_outputs < 2:
            raise ValueError(f"n_outputs={self.n_outputs}: a classifier needs at least 2 classes")
        return self


class EEGModel(nn.Module):
    """Base of every model: config, input check, max-norm constraints, seeded construction.

    Subclasses set :attr:`config_class` and build their layers inside
    ``with self.seeded(seed):`` so the same seed gives the same weights
    without touching torch's global random state.
    """

    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    #: Names of the input dimensions after the batch, e.g. ``("channel", "time")``.
    input_dims: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise ConfigError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self._max_norms: list[tuple[str, float, tuple[int, ...]]] = []

    @staticmethod
    @contextlib.contextmanager
    def seeded(seed: int) -> Iterator[None]:
        """Draw every initial weight built inside from ``torch.manual_seed(seed)``, restoring the global RNG after."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample (without the batch axis); see :attr:`input_dims`."""
        raise NotImplementedError

    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`DataError` naming the expected shape when ``x`` is not ``(n_batch, *input_shape)``."""
        if tuple(x.shape[1:]) != self.input_shape or x.ndim != len(self.input_shape) + 1:
            dims = ", ".join(f"{d}={n}" for d, n in zip(self.input_dims, self.input_shape, strict=True))
            raise DataError(f"{type(self).__name__} expects input (batch, {dims}); got shape {tuple(x.shape)}")

    def add_max_norm(self, parameter: str, max_value: float, dim: tuple[int, ...]) -> None:
        """Register a max-norm constraint on a parameter (dotted name), enforced by :meth:`apply_constraints`."""
        self.get_parameter(parameter)
        self._max_norms.append((parameter, max_value, dim))

    def apply_constraints(self) -> None:
        """Rescale constrained weights in place; call after every optimiser step (Keras semantics)."""
        for name, max_value, dim in self._max_norms:
            max_norm_(self.get_parameter(name), max_value, dim)

    def example_input(self, n_batch: int, seed: int = 0) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Standard-normal input ``(n_batch, *input_shape)`` for shape checks and benchmarks.

        A model with peripheral nodes (config ``peripheral``) gets the pair
        ``(x, peripheral)``, the second ``(n_batch, n_peripheral_features)``:
        call it as ``model(*inputs)``.
        """
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn((n_batch, *self.input_shape), generator=gen)
        n_peripheral = sum(n for _, n in getattr(self.config, "peripheral", ()))
        if not n_peripheral:
            return x
        return x, torch.randn((n_batch, n_peripheral), generator=gen)


#: Registered models by name.
MODELS: dict[str, type[EEGModel]] = {}

ModelT = TypeVar("ModelT", bound=type[EEGModel])


def register(name: str) -> Callable[[ModelT], ModelT]:
    """Class decorator adding a model to :data:`MODELS` under ``name``."""

    def add(cls: ModelT) -> ModelT:
        MODELS[name] = cls
        return cls

    return add


#: Resolvers of names :data:`MODELS` lacks, tried in order: each gives a model class or ``None``
#: (the package adds :func:`graphs.models.external.resolve` for ``"package.module:Class"`` names).
RESOLVERS: list[Callable[[str], type[EEGModel] | None]] = []


def model_class(name: str) -> type[EEGModel]:
    """The model class of ``name``: registered (:data:`MODELS`), else from the first of :data:`RESOLVERS` that knows it.

    Raises
    ------
    ConfigError
        Unknown model (lists the registered ones), or a resolver's error
        (e.g. an external module or class that cannot be imported).
    """
    if name in MODELS:
        return MODELS[name]
    for resolve in RESOLVERS:
        cls = resolve(name)
        if cls is not None:
            return cls
    raise ConfigError(
        f"unknown model {name!r}; registered models: {', '.join(sorted(MODELS))}, or 'package.module:Class'"
    )


def make_config(name: str, **hparams: Any) -> ModelConfig:
    """Validated config of model ``name`` (:func:`model_class`).

    Raises
    ------
    ConfigError
        Unknown model (lists the registered ones), unknown hyper-parameter
        (lists the allowed ones) or invalid value (names the field).
    """
    config_class = model_class(name).config_class
    allowed = ", ".join(config_class.model_fields)
    try:
        return config_class(**hparams)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            field = ".".join(str(p) for p in e["loc"]) or "(config)"
            if e["type"] == "extra_forbidden":
                problems.append(f"unknown hyper-parameter {field!r}; allowed: {allowed}")
            else:
                problems.append(f"{field}: {e['msg']}")
        raise ConfigError(f"model {name}: " + "; ".join(problems)) from None


def build_model(name: str, *, seed: int = 0, **hparams: Any) -> EEGModel:
    """Build registered model ``name`` with hyper-parameters ``hparams`` and initial weights from ``seed``.

    Examples
    --------
    >>> model = build_model("histn", n_outputs=2)
    """
    config = make_config(name, **hparams)
    return model_class(name)(config, seed=seed)  # type: ignore[call-arg]

#: Largest integer hyper-parameter (filters, kernel taps, hops, hidden units, classes...) accepted when a
#: model is rebuilt from saved weights (:func:`model_for_weights`); the zoo's defaults are 64 or less.
MAX_HPARAM = 1024
#: Input sizes may be larger: ``n_times`` up to 128 s at 512 Hz, ``n_channels`` (``n_chans`` of external models).
MAX_INPUT_HPARAM = 2**16
_INPUT_HPARAMS = ("n_times", "n_channels", "n_chans")
#: Largest number of values (weights and statistics) of a model rebuilt from saved weights (128 MB in float32).
MAX_MODEL_VALUES = 2**25


def model_for_weights(
    name: str, hparams: Mapping[str, Any], state: Mapping[str, torch.Tensor], source: str = "checkpoint"
) -> EEGModel:
    """Rebuild model ``name`` with ``hparams`` and load the saved weights ``state`` into it, in eval mode.

    Nothing is allocated for the model before the hyper-parameters are known
    to fit the weights: they are validated (:func:`make_config`), every
    integer among them is bounded (:data:`MAX_HPARAM`, input sizes
    :data:`MAX_INPUT_HPARAM`), the model is laid out on PyTorch's ``meta``
    device (shapes only) and its size bounded (:data:`MAX_MODEL_VALUES`), and
    each of its tensors is compared with ``state``'s. A checkpoint of a few KB
    therefore cannot make the loader build a model of GBs. An external model
    (``name`` ``"package.module:Class"``, :mod:`graphs.models.external`) goes
    through the same checks, but resolving its name imports that module: load
    such checkpoints only from trusted sources.

    Raises
    ------
    ConfigError
        Naming ``source`` and the hyper-parameter: ``hparams`` not a mapping,
        unknown or invalid, out of bounds, or not fitting the weights (the
        message gives the tensors whose shapes differ).
    """
    if not isinstance(hparams, Mapping):
        raise ConfigError(f"{source}: metadata 'hparams' must be a mapping of hyper-parameters, got {hparams!r:.80}")
    try:
        config = make_config(name, **hparams)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    for key, value in hparams.items():
        limit = MAX_INPUT_HPARAM if key in _INPUT_HPARAMS else MAX_HPARAM
        values = value if isinstance(value, list | tuple) else [value]
        too_large = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > limit]
        if too_large:
            raise ConfigError(f"{source}: hparam {key}={value!r:.80} is out of bounds (at most {limit})")
    with torch.device("meta"):
        layout = model_class(name)(config, seed=0)  # type: ignore[call-arg]
    expected = {k: tuple(v.shape) for k, v in layout.state_dict().items()}
    n_values = sum(math.prod(shape) for shape in expected.values())
    if n_values > MAX_MODEL_VALUES:
        raise ConfigError(
            f"{source}: hparams {dict(hparams)} make a model of {n_values} values (at most {MAX_MODEL_VALUES})"
        )
    saved = {k: tuple(v.shape) for k, v in state.items()}
    if set(saved) != set(expected):
        raise ConfigError(
            f"{source}: weights do not fit model {name!r} with its hparams: missing {sorted(set(expected) - set(saved))}, "
            f"unexpected {sorted(set(saved) - set(expected))}"
        )
    differ = {k: (saved[k], shape) for k, shape in expected.items() if saved[k] != shape}
    if differ:
        dims = {d for saved_shape, shape in differ.values() for d in shape if d not in saved_shape}
        named = [f"{k}={v}" for k, v in hparams.items() if isinstance(v, int) and not isinstance(v, bool) and v in dims]
        tensors = "; ".join(f"{k}: saved {s}, hparams give {e}" for k, (s, e) in sorted(differ.items()))
        raise ConfigError(
            f"{source}: hparams {', '.join(named) or dict(hparams)} do not fit the weights of model {name!r} ({tensors})"
        )
    model = model_class(name)(config, seed=0)  # type: ignore[call-arg]
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ConfigError(f"{source}: weights do not fit model {name!r} with its hparams: {exc}") from None
    return model.eval()


@dataclass(frozen=True)
class ParameterCount:
    """Sizes of a model: ``trainable`` parameters and saved ``statistics`` (BatchNorm running mean/var)."""

    name: str
    trainable: int
    statistics: int

    @property
    def total(self) -> int:
        """Keras' "total params": trainable + running statistics."""
        return self.trainable + self.statistics


def count_parameters(model: nn.Module, name: str = "") -> ParameterCount:
    """Trainable parameters and running-statistic buffers (BatchNorm batch counters excluded)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return ParameterCount(name or type(model).__name__, trainable, stats)


def parameter_table(**hparams: Any) -> list[ParameterCount]:
    """Parameter counts of every registered model with its defaults (plus ``hparams`` shared by all, e.g. ``n_outputs``)."""
    return [count_parameters(build_model(name, **hparams), name) for name in MODELS]


@dataclass(frozen=True)
class Prediction:
    """Model outputs in numpy.

    Attributes
    ----------
    probabilities
        ``(n, n_classes)`` softmax probabilities; None for regression.
    expected
        Classes: ``sum_k p_k * scale_k`` ``(n,)``, the expected rating.
        Regression: the predicted values, ``(n,)`` for one target, else ``(n, n_targets)``.
    predicted_class
        ``(n,)`` arg-max class index; None for regression.
    """

    probabilities: np.ndarray | None
    expected: np.ndarray
    predicted_class: np.ndarray | None


def predict(
    model: EEGModel,
    x: torch.Tensor | np.ndarray | tuple[torch.Tensor | np.ndarray, ...],
    scale: Sequence[float] | None = None,
    batch_size: int = 4096,
) -> Prediction:
    """Predict in eval mode without gradients (the model's train/eval mode is restored after).

    Parameters
    ----------
    model
        A zoo model.
    x
        Input ``(n, *model.input_shape)``; for a model with peripheral nodes
        the pair ``(x, peripheral)``, rows aligned, the second ``(n, n_peripheral_features)``.
    scale
        Rating of each class for the expected value, e.g. ``[1, 2, 3, 4, 5]``
        for SAM ratings as classes 0..4; default: the class indices.
        Ignored for regression.
    batch_size
        Windows per forward pass.
    """
    classes = model.config.output == "classes"
    n_out = model.config.n_outputs
    if classes:
        ratings = np.arange(n_out, dtype=float) if scale is None else np.asarray(scale, dtype=float)
        if ratings.shape != (n_out,):
            raise ConfigError(f"scale has {ratings.size} ratings but the model has {n_out} classes")
    inputs = [torch.as_tensor(a, dtype=torch.float32) for a in (x if isinstance(x, tuple) else (x,))]
    if len({len(a) for a in inputs}) > 1:
        raise DataError(f"predict got inputs with different numbers of rows: {[len(a) for a in inputs]}")
    chunks = zip(*(a.split(batch_size) for a in inputs), strict=True)
    # The live pipeline calls this for every window on a model already in eval mode: switching
    # modes walks every submodule, so it is done only when needed.
    was_training = model.training
    if was_training:
        model.eval()
    try:
        with torch.inference_mode():
            scores = torch.cat([model(*chunk) for chunk in chunks]) if len(inputs[0]) else None
    finally:
        if was_training:
            model.train()
    if scores is None:
        raise DataError("predict got no windows (x has length 0)")
    if not classes:
        values = scores.double().numpy()
        return Prediction(None, values[:, 0] if n_out == 1 else values, None)
    probs = scores.double().softmax(dim=1).numpy()
    return Prediction(probs, probs @ ratings, probs.argmax(axis=1))
