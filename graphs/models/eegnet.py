"""EEGNet-8,2 (Lawhern et al., J. Neural Eng. 2018) on raw windows.

The reference Keras model (``EEGModels.py::EEGNet`` of the authors' arl-eegmodels)
in torch layout: input ``(n_batch, n_channels, n_times)``; temporal conv
(F1 = 8 filters of ``kernel_length`` = half the sampling rate, 'same', no
bias) -> BN -> depthwise spatial conv over all channels (D = 2 per filter,
max-norm 1) -> BN -> ELU -> average pool 4 -> dropout -> separable conv
(F2 = 16, 16 taps, 'same') -> BN -> ELU -> average pool 8 -> dropout ->
flatten -> dense (max-norm 0.25 per class). Written here rather than taken
from braindecode (``EEGNetv4``), whose dependencies pin a torch-matched
torchaudio this project cannot install next to its torch.

BatchNorm uses Keras' eps 1e-3 and momentum 0.99 (torch 0.01); weights are
Xavier-uniform with zero biases, as braindecode initialises it. Max-norm
constraints are enforced by :meth:`~graphs.models.base.EEGModel.apply_constraints`
after each optimiser step.

``variant="histn_authors"`` gives the EEGNet settings of the HiSTN authors'
subject-dependent script (``Dreamer_10cv.py`` with ``Models.EEGNet``):
temporal kernel 5, separable kernel 5, average pooling 2 and 2, dropout 0.75
(:data:`EEGNET_VARIANTS`); hyper-parameters given explicitly override the variant's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from typing import Any, Literal

from pydantic import Field, model_validator
from torch import nn

from .base import EEGModel, ModelConfig, register


#: Named EEGNet settings: hyper-parameter defaults that replace EEGNet-8,2's.
EEGNET_VARIANTS: dict[str, dict[str, Any]] = {
    "standard": {},
    "histn_authors": {"kernel_length": 5, "separable_kernel": 5, "pool1": 2, "pool2": 2, "dropout": 0.75},
}


class EEGNetConfig(ModelConfig):
    """EEGNet hyper-parameters; defaults are EEGNet-8,2 for 1-s windows of 14 channels at 128 Hz.

    Attributes
    ----------
    n_channels, n_times
        Input size (channels, samples).
    n_filters, depth, n_separable
        F1, D and F2.
    kernel_length
        Temporal kernel taps (half the sampling rate).
    separable_kernel
        Taps of the separable conv.
    pool1, pool2
        Average-pooling factors after blocks 1 and 2.
    dropout
        0.5 within-subject, 0.25 cross-subject in the paper.
    norm_rate
        Max norm of each class's dense weights.
    variant
        ``standard`` (EEGNet-8,2) or ``histn_authors`` (:data:`EEGNET_VARIANTS`).
    """

    n_channels: int = Field(14, ge=1)
    n_times: int = Field(128, ge=1)
    n_filters: int = Field(8, ge=1)
    depth: int = Field(2, ge=1)
    n_separable: int = Field(16, ge=1)
    kernel_length: int = Field(64, ge=1)
    separable_kernel: int = Field(16, ge=1)
    pool1: int = Field(4, ge=1)
    pool2: int = Field(8, ge=1)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    norm_rate: float = Field(0.25, gt=0.0)
    variant: Literal["standard", "histn_authors"] = "standard"

    @model_validator(mode="before")
    @classmethod
    def _variant_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("variant") in EEGNET_VARIANTS:
            return {**EEGNET_VARIANTS[data["variant"]], **data}
        return data

    @model_validator(mode="after")
    def _long_enough(self) -> EEGNetConfig:
        if self.n_times // self.pool1 // self.pool2 < 1:
            raise ValueError(f"n_times={self.n_times} is shorter than pool1 x pool2 = {self.pool1 * self.pool2}")
        return self


def _same_pad(x: torch.Tensor, n_taps: int) -> torch.Tensor:
    """Keras 'same' zero padding along time (last axis): the extra zero of an even kernel on the right."""
    left = (n_taps - 1) // 2
    return F.pad(x, (left, n_taps - 1 - left))


def _keras_bn2d(n: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(n, eps=1e-3, momentum=0.01)


@register("eegnet")
class EEGNet(EEGModel):
    """EEGNet-8,2, input ``(n_batch, n_channels, n_times)``, output ``(n_batch, n_outputs)``."""

    config_class = EEGNetConfig
    input_dims = ("channel", "time")
    config: EEGNetConfig

    def __init__(self, config: EEGNetConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(config or EEGNetConfig())
        cfg = self.config
        f1, f_d = cfg.n_filters, cfg.n_filters * cfg.depth
        with self.seeded(seed):
            self.temporal = nn.Conv2d(1, f1, (1, cfg.kernel_length), bias=False)
            self.bn1 = _keras_bn2d(f1)
            self.spatial = nn.Conv2d(f1, f_d, (cfg.n_channels, 1), groups=f1, bias=False)
            self.bn2 = _keras_bn2d(f_d)
            self.separable_depthwise = nn.Conv2d(f_d, f_d, (1, cfg.separable_kernel), groups=f_d, bias=False)
            self.separable_pointwise = nn.Conv2d(f_d, cfg.n_separable, 1, bias=False)
            self.bn3 = _keras_bn2d(cfg.n_separable)
            n_flat = cfg.n_separable * (cfg.n_times // cfg.pool1 // cfg.pool2)
            self.classifier = nn.Linear(n_flat, cfg.n_outputs)
            for p in self.parameters():
                if p.ndim > 1:
                    nn.init.xavier_uniform_(p)
            nn.init.zeros_(self.classifier.bias)
        self.add_max_norm("spatial.weight", 1.0, (1, 2, 3))
        self.add_max_norm("classifier.weight", cfg.norm_rate, (1,))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.config.n_channels, self.config.n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from windows ``(n_batch, n_channels, n_times)``."""
        self.check_input(x)
        cfg = self.config
        y = self.bn1(self.temporal(_same_pad(x[:, None], cfg.kernel_length)))
        y = F.elu(self.bn2(self.spatial(y)))
        y = F.dropout(F.avg_pool2d(y, (1, cfg.pool1)), cfg.dropout, self.training)
        y = self.separable_depthwise(_same_pad(y, cfg.separable_kernel))
        y = F.elu(self.bn3(self.separable_pointwise(y)))
        y = F.dropout(F.avg_pool2d(y, (1, cfg.pool2)), cfg.dropout, self.training)
        return self.classifier(y.flatten(1))
