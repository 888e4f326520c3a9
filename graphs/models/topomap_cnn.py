"""TopomapCNN: a small CNN on interpolated scalp maps, the teacher for distillation.

Input ``(n_batch, n_bands, size, size)``: one interpolated scalp image per
band (e.g. DE per band on a 32 x 32 grid). Blocks of 3x3 conv (no bias) ->
BatchNorm -> ReLU, with 2x2 max pooling between blocks, then a global average
pool gives the embedding :meth:`TopomapCNN.embed` ``(n_batch, embed_dim)``
(``embed_dim = widths[-1]``); dropout and a linear layer give the outputs.
The embedding is what prototype-based distillation aggregates (NeuroGaze-
Distill's teacher embeddings; its architecture is not public, field notes
section 2), so it is exposed before the head and can be L2-normalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from .base import EEGModel, ModelConfig, register


class TopomapCNNConfig(ModelConfig):
    """TopomapCNN hyper-parameters.

    Attributes
    ----------
    n_bands
        Input planes (one scalp map per band).
    image_size
        Height = width of the maps in pixels.
    widths
        Conv channels per block; the last is the embedding size.
    dropout
        Dropout before the linear head.
    """

    n_bands: int = Field(5, ge=1)
    image_size: int = Field(32, ge=1)
    widths: tuple[int, ...] = (16, 32, 64)
    dropout: float = Field(0.25, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _fits(self) -> TopomapCNNConfig:
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"widths must be positive, got {self.widths}")
        if self.image_size >> (len(self.widths) - 1) < 1:
            raise ValueError(f"image_size={self.image_size} is too small for {len(self.widths) - 1} 2x2 poolings")
        return self


@register("topomap_cnn")
class TopomapCNN(EEGModel):
    """Scalp-map CNN, input ``(n_batch, n_bands, size, size)``, output ``(n_batch, n_outputs)``."""

    config_class = TopomapCNNConfig
    input_dims = ("band", "y", "x")
    config: TopomapCNNConfig

    def __init__(self, config: TopomapCNNConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(config or TopomapCNNConfig())
        cfg = self.config
        with self.seeded(seed):
            layers: list[nn.Module] = []
            n_in = cfg.n_bands
            for i, width in enumerate(cfg.widths):
                if i > 0:
                    layers.append(nn.MaxPool2d(2))
                layers += [nn.Conv2d(n_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                n_in = width
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(n_in, cfg.n_outputs)

    @property
    def input_shape(self) -> tuple[int, ...]:
        cfg = self.config
        return (cfg.n_bands, cfg.image_size, cfg.image_size)

    @property
    def embed_dim(self) -> int:
        """Size of :meth:`embed`'s output."""
        return self.config.widths[-1]

    def embed(self, x: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embedding ``(n_batch, embed_dim)`` before the head; unit L2 norm per row if ``normalize``."""
        self.check_input(x)
        z = self.features(x).mean(dim=(2, 3))
        return F.normalize(z, dim=1) if normalize else z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from scalp maps ``(n_batch, n_bands, size, size)``."""
        return self.head(F.dropout(self.embed(x), self.config.dropout, self.training))
