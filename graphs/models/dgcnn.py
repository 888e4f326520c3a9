"""DGCNN (Song, Zheng, Song, Cui, IEEE TAC 2018) on differential-entropy features.

TorchEEG's formulation (``torcheeg/models/gnn/dgcnn.py``; field notes section 3),
vectorised: input DE ``(n_batch, n_channels, n_bands)`` -> BatchNorm over
bands -> learnable adjacency ``A`` (Xavier-normal init) made non-negative with
ReLU and normalised ``A^ = D^-1/2 A D^-1/2`` -> graph convolution with
supports ``[I, A^, A^2, ...]`` (``n_supports`` of them; TorchEEG calls them
Chebyshev supports, they are powers of ``A^``), each with its own
``n_bands -> hidden`` weight, summed, then ReLU -> flatten -> dense to
``fc_hidden`` + ReLU -> dense to outputs. PyG's dense GCN layers fix the
normalisation to ``A + I`` with one weight, so the layer is written here.

Peripheral nodes (``peripheral``, issue 4): DGCNN's graph is one region of all
electrodes under a global node, the ``fc_hidden``-wide read-out after
``fc1`` + ReLU. ECG and EDA feature vectors join it at the global level
(:class:`~graphs.models.layers.PeripheralFusion`: BatchNorm without affine,
``Linear(n, fc_hidden)`` per node, one round of sum messages over the star of
:meth:`graphs.regions.PeripheralHierarchy.global_adjacency`), and the last
dense layer reads the updated global node. ``forward(x, peripheral)`` then
takes ``(n_batch, n_peripheral_features)`` (NaN = missing; a window with every
feature missing gets the EEG-only output). ``{ecg: 4, eda: 3}`` adds
``(4 + 1 + 3 + 1) * 64 = 576`` trainable parameters.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from graphs.regions import RegionHierarchy, with_peripheral

from .base import EEGModel, ModelConfig, register
from .layers import PeripheralFusion, PeripheralNodes, check_peripheral


class DGCNNConfig(ModelConfig):
    """DGCNN hyper-parameters (TorchEEG defaults, 14 Emotiv channels).

    Attributes
    ----------
    n_channels, n_bands
        Input size: electrodes x DE bands.
    n_supports
        Graph supports ``[I, A^, ..., A^(K-1)]`` (TorchEEG ``num_layers``).
    hidden
        Graph-convolution features per electrode.
    fc_hidden
        Width of the hidden dense layer.
    peripheral
        Peripheral nodes at the global level, ``((name, n_features), ...)``
        (e.g. ``{ecg: 4, eda: 3}``); empty: the published EEG-only model.
    """

    n_channels: int = Field(14, ge=1)
    n_bands: int = Field(5, ge=1)
    n_supports: int = Field(2, ge=1)
    hidden: int = Field(32, ge=1)
    fc_hidden: int = Field(64, ge=1)
    peripheral: PeripheralNodes = ()

    @model_validator(mode="after")
    def _peripheral_names(self) -> DGCNNConfig:
        if self.peripheral:
            self.global_adjacency()  # a name clashing with the global node raises here
        return self

    def global_adjacency(self) -> np.ndarray:
        """The star ``(1 + n_peripheral, 1 + n_peripheral)`` joining the peripheral nodes to the global node."""
        electrodes = RegionHierarchy("dgcnn", (("all", tuple(f"E{i}" for i in range(self.n_channels))),), (), ())
        return with_peripheral(electrodes, [name for name, _ in self.peripheral]).global_adjacency()


@register("dgcnn")
class DGCNN(EEGModel):
    """DGCNN, input ``(n_batch, n_channels, n_bands)``, output ``(n_batch, n_outputs)``."""

    config_class = DGCNNConfig
    input_dims = ("channel", "band")
    config: DGCNNConfig

    def __init__(self, config: DGCNNConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(config or DGCNNConfig())
        cfg = self.config
        with self.seeded(seed):
            self.bn = nn.BatchNorm1d(cfg.n_bands)
            self.adjacency = nn.Parameter(nn.init.xavier_normal_(torch.empty(cfg.n_channels, cfg.n_channels)))
            self.graph_weights = nn.Parameter(torch.empty(cfg.n_supports, cfg.n_bands, cfg.hidden))
            for w in self.graph_weights:
                nn.init.xavier_normal_(w)
            self.fc1 = nn.Linear(cfg.n_channels * cfg.hidden, cfg.fc_hidden)
            self.fc2 = nn.Linear(cfg.fc_hidden, cfg.n_outputs)
            for fc in (self.fc1, self.fc2):
                nn.init.xavier_normal_(fc.weight)
                nn.init.zeros_(fc.bias)
            # Drawn last, so the EEG weights are those of the EEG-only model of the same seed.
            self.peripheral_fusion = (
                PeripheralFusion([n for _, n in cfg.peripheral], cfg.fc_hidden, cfg.global_adjacency())
                if cfg.peripheral
                else None
            )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.config.n_channels, self.config.n_bands)

    def normalized_adjacency(self) -> torch.Tensor:
        """``D^-1/2 relu(A) D^-1/2`` ``(n_channels, n_channels)`` (TorchEEG's ``normalize_A``, eps 1e-10)."""
        adj = F.relu(self.adjacency)
        d = 1.0 / torch.sqrt(adj.sum(dim=1) + 1e-10)
        return d[:, None] * adj * d[None, :]

    def supports(self) -> torch.Tensor:
        """``[I, A^, A^2, ...]`` stacked, ``(n_supports, n_channels, n_channels)``."""
        adj = self.normalized_adjacency()
        out = [torch.eye(len(adj), dtype=adj.dtype, device=adj.device)]
        for _ in range(self.config.n_supports - 1):
            out.append(out[-1] @ adj)
        return torch.stack(out)

    def forward(self, x: torch.Tensor, peripheral: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from DE features ``(n_batch, n_channels, n_bands)``.

        ``peripheral`` ``(n_batch, n_peripheral_features)`` (NaN = missing) is
        required with peripheral nodes and refused without.
        """
        self.check_input(x)
        check_peripheral(self, self.peripheral_fusion, x, peripheral)
        x = self.bn(x.transpose(1, 2)).transpose(1, 2)
        propagated = torch.einsum("kij,bjf->bikf", self.supports(), x).flatten(2)
        graph = F.relu(propagated @ self.graph_weights.flatten(0, 1))
        global_node = F.relu(self.fc1(graph.flatten(1)))
        if self.peripheral_fusion is not None:
            global_node = self.peripheral_fusion(global_node, peripheral)
        return self.fc2(global_node)
