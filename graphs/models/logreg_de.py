"""Logistic regression on differential-entropy features, as a torch model.

The field's first baseline (``biosig.evaluation.baseline`` fits it with
scikit-learn) in torch, so it trains with the same trainer, losses and label
modes as the networks: flatten DE ``(n_batch, n_channels, n_bands)`` ->
optional standardisation -> one linear layer. Standardisation is a
``BatchNorm1d`` without affine parameters: it learns the features' mean and
variance as running statistics, so in eval mode the model stays one fixed
affine map (what scikit-learn's ``StandardScaler`` + ``LogisticRegression`` is).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from .base import EEGModel, ModelConfig, register


class LogRegDEConfig(ModelConfig):
    """Hyper-parameters of the DE logistic regression.

    Attributes
    ----------
    n_channels, n_bands
        Input size: electrodes x DE bands.
    standardize
        Z-score each feature with running statistics before the linear layer.
    """

    n_channels: int = Field(14, ge=1)
    n_bands: int = Field(5, ge=1)
    standardize: bool = True


@register("logreg_de")
class LogRegDE(EEGModel):
    """Linear model on flattened DE, input ``(n_batch, n_channels, n_bands)``, output ``(n_batch, n_outputs)``."""

    config_class = LogRegDEConfig
    input_dims = ("channel", "band")
    config: LogRegDEConfig

    def __init__(self, config: LogRegDEConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(config or LogRegDEConfig())
        cfg = self.config
        n_features = cfg.n_channels * cfg.n_bands
        with self.seeded(seed):
            self.scaler = nn.BatchNorm1d(n_features, affine=False) if cfg.standardize else nn.Identity()
            self.linear = nn.Linear(n_features, cfg.n_outputs)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.config.n_channels, self.config.n_bands)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from DE features ``(n_batch, n_channels, n_bands)``."""
        self.check_input(x)
        return self.linear(self.scaler(x.flatten(1)))
