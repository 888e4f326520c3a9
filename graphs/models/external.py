"""Models from elsewhere: a config's model ``name: "package.module:Class"`` trained like the zoo's.

A name of the form ``package.module:Class`` (the pattern
:data:`biosig.config.evaluation.EXTERNAL_MODEL_NAME`, which configs are checked against) names a
:class:`torch.nn.Module` subclass with a braindecode-style constructor: it is
imported with :mod:`importlib` when a config names it, and built as
``Class(n_chans=..., n_outputs=..., n_times=..., sfreq=..., **hparams)``,
the signal parameters filled from the data (channels, window samples,
sampling rate in Hz; ``chs_info``, a list of ``{"ch_name": name}``, too when
the constructor accepts it) and the rest from the config's ``hparams``. It
takes raw windows ``(batch, n_chans, n_times)`` and must return scores
``(batch, n_outputs)``: logits for classes, values for regression.

:class:`ExternalModel` wraps such a module as an
:class:`~graphs.models.base.EEGModel` (its weights under ``net.``), so the
trainer, the protocols, :func:`~graphs.models.base.predict`, checkpoints
(which record the ``"package.module:Class"`` name and the hyper-parameters,
signal parameters included) and :func:`~graphs.models.base.model_for_weights`
treat it like a registered model. Weights are drawn inside
:meth:`~graphs.models.base.EEGModel.seeded`, so a seed gives the same model.

Security: naming a class imports its module and so runs that module's code,
like any Python ``import``. Configs are trusted input, as is a checkpoint
that names an external class: loading it imports that module (the module
must already be importable: installed, or on ``PYTHONPATH``). A name that is
not a :class:`torch.nn.Module` subclass is refused before anything is called.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from pydantic import ConfigDict, Field, model_validator
from torch import nn

from biosig.config.evaluation import EXTERNAL_MODEL_NAME as EXTERNAL_NAME
from biosig.errors import ConfigError, DataError

from .base import EEGModel, ModelConfig

#: Constructor arguments filled from the data and the task (braindecode's names).
SIGNAL_PARAMS = ("n_chans", "n_outputs", "n_times", "sfreq")
#: Optional constructor argument filled from the data when the class accepts it.
CHANNEL_INFO = "chs_info"


def is_external(name: str) -> bool:
    """Whether a model name is of the form ``package.module:Class`` rather than a registered name."""
    return bool(EXTERNAL_NAME.match(name))


def module_class(name: str) -> type[nn.Module]:
    """Import the :class:`torch.nn.Module` subclass that ``name`` (``package.module:Class``) names.

    Raises
    ------
    ConfigError
        Naming the model entry: bad syntax, a module that cannot be imported,
        a missing class, something that is not a ``torch.nn.Module`` subclass,
        or a constructor that does not accept the signal parameters.
    """
    if not is_external(name):
        raise ConfigError(f"models: {name!r} is neither a registered model nor of the form 'package.module:Class'")
    module_name, class_name = name.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"models: {name!r}: cannot import module {module_name!r} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConfigError(f"models: {name!r}: module {module_name!r} has no class {class_name!r}")
    if not isinstance(cls, type):
        raise ConfigError(f"models: {name!r}: {class_name} is a {type(cls).__name__}, not a torch.nn.Module subclass")
    if not issubclass(cls, nn.Module):
        raise ConfigError(f"models: {name!r}: class {class_name} is not a torch.nn.Module subclass")
    accepted, any_keyword = _parameters(cls)
    missing = [p for p in SIGNAL_PARAMS if p not in accepted and not any_keyword]
    if missing:
        raise ConfigError(f"models: {name!r}: its constructor must accept {', '.join(SIGNAL_PARAMS)}; it lacks {missing}")
    return cls


def _parameters(cls: type[nn.Module]) -> tuple[tuple[str, ...], bool]:
    """The keyword arguments ``cls(...)`` accepts by name, and whether it takes any (``**kwargs``)."""
    params = list(inspect.signature(cls).parameters.values())
    named = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return named, any(p.kind == p.VAR_KEYWORD for p in params)


class ExternalConfig(ModelConfig):
    """An external model's hyper-parameters: the signal parameters, then the class's own (extra keys).

    Attributes
    ----------
    n_chans, n_times
        Input size (channels, samples per window), from the data.
    sfreq
        Sampling rate of the windows, Hz, from the data.
    chs_info
        ``[{"ch_name": name}, ...]`` in input order, passed when the constructor
        accepts ``chs_info``; ``None`` otherwise.
    """

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)
    #: The wrapped class; set on the per-class subclass made by :func:`external_model`.
    module_class: ClassVar[type[nn.Module]]

    n_chans: int = Field(ge=1)
    n_times: int = Field(ge=1)
    sfreq: float = Field(gt=0)
    chs_info: tuple[dict[str, Any], ...] | None = None

    @model_validator(mode="after")
    def _accepted_by_the_class(self) -> ExternalConfig:
        accepted, any_keyword = _parameters(self.module_class)
        unknown = [k for k in self.model_extra or {} if k not in accepted]
        if unknown and not any_keyword:
            own = [p for p in accepted if p not in (*SIGNAL_PARAMS, CHANNEL_INFO)]
            raise ValueError(f"{self.module_class.__name__} takes no hyper-parameter {unknown}; it accepts {own}")
        return self

    def constructor_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the wrapped class: signal parameters (``chs_info`` if accepted), then ``hparams``."""
        accepted, any_keyword = _parameters(self.module_class)
        kwargs: dict[str, Any] = {"n_chans": self.n_chans, "n_outputs": self.n_outputs, "n_times": self.n_times}
        kwargs["sfreq"] = self.sfreq
        if self.chs_info is not None and (CHANNEL_INFO in accepted or any_keyword):
            kwargs[CHANNEL_INFO] = [dict(ch) for ch in self.chs_info]
        return kwargs | dict(self.model_extra or {})


class ExternalModel(EEGModel):
    """An external :class:`torch.nn.Module` on raw windows ``(n_batch, n_chans, n_times)`` -> ``(n_batch, n_outputs)``."""

    config_class: ClassVar[type[ModelConfig]] = ExternalConfig
    input_dims = ("channel", "time")
    #: The ``package.module:Class`` name; set on the per-class subclass.
    external_name: ClassVar[str] = ""
    config: ExternalConfig

    def __init__(self, config: ExternalConfig, *, seed: int = 0) -> None:
        super().__init__(config)
        with self.seeded(seed):
            self.net = config.module_class(**config.constructor_kwargs())

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.config.n_chans, self.config.n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` of the wrapped module for windows ``(n_batch, n_chans, n_times)``."""
        self.check_input(x)
        scores = self.net(x)
        expected = (x.shape[0], self.config.n_outputs)
        if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != expected:
            got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
            raise DataError(f"model {self.external_name}: must return scores {expected} (batch, n_outputs), got {got}")
        return scores


@functools.cache
def external_model(name: str) -> type[ExternalModel]:
    """The :class:`ExternalModel` subclass (with its config class) wrapping the class ``name`` names (:func:`module_class`)."""
    cls = module_class(name)
    config = type(f"{cls.__name__}Config", (ExternalConfig,), {"module_class": cls, "__module__": __name__})
    attrs = {"config_class": config, "external_name": name, "__module__": __name__}
    return type(f"External{cls.__name__}", (ExternalModel,), attrs)


def resolve(name: str) -> type[ExternalModel] | None:
    """:func:`external_model` for a name with a ``:``, else ``None``; a resolver of :func:`~graphs.models.base.model_class`."""
    return external_model(name) if ":" in name else None


def signal_hparams(n_chans: int, n_times: int, sfreq: float, ch_names: Sequence[str]) -> dict[str, Any]:
    """The data's signal parameters of an external model: sizes, sampling rate (Hz) and ``chs_info``."""
    return {
        "n_chans": int(n_chans),
        "n_times": int(n_times),
        "sfreq": float(sfreq),
        CHANNEL_INFO: [{"ch_name": str(name)} for name in ch_names],
    }
