"""HiSTN: hierarchical spatio-temporal network on raw 1-s EEG windows (Kuang, Song, Michoski 2024).

arXiv 2408.15255 and the authors' Keras code (``Models.py::HST_model``, snapshot
59a81f3; see the project's field notes, section 1), rebuilt layer by layer
for any :class:`~graphs.regions.RegionHierarchy` and window length.

Input ``(n_batch, n_channels, n_times)`` (torch convention; Keras used
``(n_times, n_channels)``), channels in ``hierarchy.channels`` order, e.g.
DREAMER's 14 Emotiv channels at 128 Hz, 1-s windows.

Architecture (Keras layer names in brackets) and trainable parameters for
14 channels, 4 regions (4, 3, 3, 4 channels) and 5 classes; BatchNorm's
running statistics (Keras counts them) in parentheses:

    shared temporal conv, 8 filters x 64 taps, 'same', no bias [Conv2D]       512
    per-channel merge of the 8 maps, max-norm 1 [DepthConv0]                  112
    BatchNorm + ELU [BN-1]                                                28 (+28)
    per-channel temporal conv, 5 taps, valid, max-norm 1 [DepthConv]           70
    BatchNorm + ELU [BN-2], average pool 2 (128 -> 62 steps), dropout     28 (+28)
    node level: Chebyshev filter per region, order 2 [NodeMP]                   12
      separable conv per region, 5 taps, 'same' (5n + n^2) [NodeSP]            120
      BatchNorm + ELU [N_BN], residual add -> X_out (62, 14)              28 (+28)
    region level: Dense(n, softmax) attention per region x 2 [RF]              128
      Chebyshev filter on the region ring, order 2 [RMP] -> X_R_out (62, 4)      3
    global level: Dense(4, softmax) attention x 2 [GRC] -> X_G_out (62, 1)      40
    concat (62, 19), time average, dropout, linear -> classes                  100
    total                                                               1181 (+84)

Faithful to the code where paper and code could differ:

* the second region attention reads the node-level signal *before* the
  residual add (``X_agg``), and the global attention of the first branch
  reads the region signals *before* region message passing (``X_R``);
* Keras' ``max_norm(1.)`` with its default ``axis=0`` bounds the norm over
  the kernel's first axis. That axis is time for the 5-tap depthwise kernel
  (each channel's 5 taps: norm <= 1), but has length 1 for the merge kernel
  ``(1, 8)`` and the pointwise kernels ``(1, n, n)``, whose weights are thus
  bounded one by one (``|w| <= 1``). Constraints are applied by
  :meth:`~graphs.models.base.EEGModel.apply_constraints` after each
  optimiser step, as Keras does;
* BatchNorm uses Keras' defaults (eps 1e-3, momentum 0.99 i.e. torch 0.01)
  and weights Keras' glorot-uniform initialisation with Keras' fans;
* the regression head is linear (Keras applied ``tanh``); the classifier
  returns logits (Keras: softmax).

Computation is rearranged for CPU speed with identical mathematics (checked
against a direct per-region implementation in the tests): the temporal conv
and the merge are both linear, so they collapse into one 64-tap kernel per
channel (8x fewer operations), applied as a banded Toeplitz matrix product;
per-region operations run at once as block-diagonal matrices; in eval mode
each BatchNorm is folded into the linear operation before it; and the region
and global levels, linear in time once their attention weights (computed from
time averages) are known, are evaluated on time averages, since
``mean_t(A x) = A mean_t(x)``. Internal tensors are channel-major
``(n_channels, n_batch, n_times)`` (see :mod:`graphs.models.layers`).

Inference on a few windows at a time (eval mode, no gradients, fewer than
:attr:`HiSTN.FROZEN_MAX_BATCH`: the live pipeline) goes further on weights
folded once and cached (:meth:`HiSTN.frozen_weights`, rebuilt when any
parameter or buffer changes; :mod:`graphs.models.histn_frozen`): the node
level's message passing, depthwise and pointwise convs and BatchNorm become
one dense ``n_channels x n_channels x node_kernel`` conv, and each pair of
attentions runs as one. One window of 64 channels then takes 35 tensor
operations (views aside) instead of 87, most of a live window's cost being per
operation; the tests check this path against the autograd path and the
Keras-order reference.

Peripheral nodes (``peripheral``, not in the paper; issue 4): ECG and EDA
feature vectors of the window join the global level
(:class:`~graphs.regions.PeripheralHierarchy`) through
:class:`~graphs.models.layers.PeripheralFusion`. The EEG global node is the
1-wide series ``X_G_out`` ``(62, 1)``; each peripheral node's features
(BatchNorm without affine, then ``Linear(n, 1)``) give one value per window,
broadcast over the 62 steps, and the star message passing ``g + sum_p e_p``
replaces ``X_G_out`` in the concatenation. Being linear in time, it runs on the
time averages like the levels above. ``forward(x, peripheral)`` then takes
``(n_batch, n_peripheral_features)``; a window with every peripheral feature
missing (NaN) gets the EEG-only output. For ``{ecg: 4, eda: 3}`` the extra
trainable parameters are 5 + 4 = 9 (1190 for 5 classes), plus 14 BatchNorm
statistics.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator, model_validator
from torch import nn

from graphs.regions import PeripheralHierarchy, RegionHierarchy, emotiv14_histn, parse_hierarchy, with_peripheral

from .base import EEGModel, ModelConfig, register
from .histn_frozen import FrozenWeights, fold_weights, frozen_forward, weights_key
from .layers import (
    ChebyshevFilter,
    PeripheralFusion,
    PeripheralNodes,
    RegionAttention,
    ToeplitzDepthwise,
    average_pool,
    bn_elu,
    check_peripheral,
    depthwise_taps,
    frozen_affine,
    glorot_uniform_,
    keras_batch_norm,
)


class HiSTNConfig(ModelConfig):
    """HiSTN hyper-parameters; defaults are the authors' subject-dependent DREAMER setting.

    Attributes
    ----------
    hierarchy
        Channels -> regions -> global; the input's channel order is ``hierarchy.channels``.
        Also accepts a name (``deap32``), a montage mapping or the explicit
        mapping (:func:`graphs.regions.parse_hierarchy`); the JSON dump is the
        explicit form, which reads back to the same hierarchy.
    n_times
        Window length in samples (1 s at 128 Hz).
    n_filters
        Shared temporal filters (F1).
    temporal_kernel
        Taps of the shared temporal filters (``ksize``; 64 = 0.5 s at 128 Hz).
    depthwise_kernel
        Taps of the per-channel temporal conv (valid padding).
    pool
        Average-pooling factor over time.
    node_kernel
        Taps of the node-level separable conv ('same' padding).
    node_hops
        Chebyshev order per region (one value for all, or one per region; the
        authors' G1 variant uses ``(1, 2, 1, 2, 1)``).
    region_hops
        Chebyshev order on the region graph.
    dropout
        Dropout rate after pooling and before the classifier (0.5 SD, 0.2 SI).
    peripheral
        Peripheral nodes at the global level, ``((name, n_features), ...)``
        (e.g. ``{ecg: 4, eda: 3}``, the columns of
        :data:`graphs.training.windows_dataset.PERIPHERAL_NODES`); empty: the
        published EEG-only model. See "Peripheral nodes" in the module docstring.
    """

    hierarchy: RegionHierarchy = Field(default_factory=emotiv14_histn)
    n_times: int = Field(128, ge=1)
    n_filters: int = Field(8, ge=1)
    temporal_kernel: int = Field(64, ge=1)
    depthwise_kernel: int = Field(5, ge=1)
    pool: int = Field(2, ge=1)
    node_kernel: int = Field(5, ge=1)
    node_hops: int | tuple[int, ...] = 2
    region_hops: int = Field(2, ge=1)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    peripheral: PeripheralNodes = ()

    @field_validator("hierarchy", mode="before")
    @classmethod
    def _resolve_hierarchy(cls, value: Any) -> RegionHierarchy:
        return parse_hierarchy(value)

    @model_validator(mode="after")
    def _consistent(self) -> HiSTNConfig:
        n_regions = len(self.hierarchy.regions)
        if isinstance(self.node_hops, tuple) and len(self.node_hops) != n_regions:
            raise ValueError(f"node_hops has {len(self.node_hops)} values for {n_regions} regions of {self.hierarchy.name}")
        if min(self.hops_per_region) < 1:
            raise ValueError(f"node_hops must be >= 1, got {self.node_hops}")
        if (self.n_times - self.depthwise_kernel + 1) // self.pool < 1:
            raise ValueError(
                f"n_times={self.n_times} is too short for depthwise_kernel={self.depthwise_kernel} and pool={self.pool}"
            )
        if self.peripheral:
            self.peripheral_hierarchy()  # names clashing with a channel, region or the global node raise here
        return self

    def peripheral_hierarchy(self) -> PeripheralHierarchy:
        """The hierarchy with the :attr:`peripheral` nodes at its global level."""
        return with_peripheral(self.hierarchy, [name for name, _ in self.peripheral])

    @property
    def hops_per_region(self) -> tuple[int, ...]:
        """Chebyshev order of each region."""
        if isinstance(self.node_hops, int):
            return (self.node_hops,) * len(self.hierarchy.regions)
        return self.node_hops


@register("histn")
class HiSTN(EEGModel):
    """HiSTN (see the module docstring), input ``(n_batch, n_channels, n_times)``, output ``(n_batch, n_outputs)``."""

    config_class = HiSTNConfig
    input_dims = ("channel", "time")
    config: HiSTNConfig
    #: Inference batches smaller than this run on :meth:`frozen_weights` (see the module docstring).
    #: Measured here, one thread: 1.25-1.5x faster for one window (0.95 vs 1.19 ms at 64 x 512),
    #: break-even at 8 windows of 64 x 512, slower for large batches (0.82x at 256), where the
    #: dense node conv does more arithmetic than the block-diagonal products.
    FROZEN_MAX_BATCH = 8

    def __init__(self, config: HiSTNConfig | None = None, *, seed: int = 0) -> None:
        super().__init__(config or HiSTNConfig())
        cfg = self.config
        hier = cfg.hierarchy
        self.region_sizes = tuple(len(chs) for _, chs in hier.regions)
        n_ch, n_reg = len(hier.channels), len(self.region_sizes)
        self.peripheral_fusion: PeripheralFusion | None = None
        with self.seeded(seed):
            self.temporal_kernels = nn.Parameter(torch.empty(cfg.n_filters, cfg.temporal_kernel))
            self.merge = nn.Parameter(torch.empty(n_ch, cfg.n_filters))
            self.merge_bn = keras_batch_norm(n_ch)
            self.temporal_depthwise = nn.Parameter(torch.empty(n_ch, cfg.depthwise_kernel))
            self.temporal_bn = keras_batch_norm(n_ch)
            self.node_mp = ChebyshevFilter([hier.intra_adjacency(r) for r in hier.region_names], cfg.hops_per_region)
            self.node_depthwise = nn.Parameter(torch.empty(n_ch, cfg.node_kernel))
            self.node_pointwise = nn.ParameterList([nn.Parameter(torch.empty(n, n)) for n in self.region_sizes])
            self.node_bn = keras_batch_norm(n_ch)
            self.region_attention_head = RegionAttention(self.region_sizes)
            self.region_attention_node = RegionAttention(self.region_sizes)
            self.region_mp = ChebyshevFilter([hier.region_adjacency()], [cfg.region_hops])
            self.global_attention_head = RegionAttention([n_reg])
            self.global_attention_node = RegionAttention([n_reg])
            self.classifier = nn.Linear(n_ch + n_reg + 1, cfg.n_outputs)
            self.reset_parameters()
            if cfg.peripheral:
                # Drawn after the EEG weights, which are thus those of the EEG-only model of the same seed.
                self.peripheral_fusion = PeripheralFusion(
                    [n for _, n in cfg.peripheral], 1, cfg.peripheral_hierarchy().global_adjacency()
                )
        self.toeplitz = ToeplitzDepthwise(cfg.temporal_kernel, cfg.n_times)
        self._frozen: FrozenWeights | None = None
        self.add_max_norm("merge", 1.0, ())
        self.add_max_norm("temporal_depthwise", 1.0, (1,))
        for i in range(n_reg):
            self.add_max_norm(f"node_pointwise.{i}", 1.0, ())

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel order of the input."""
        return self.config.hierarchy.channels

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (len(self.channels), self.config.n_times)

    @property
    def n_pooled(self) -> int:
        """Time steps after the temporal head (62 for 128)."""
        cfg = self.config
        return (cfg.n_times - cfg.depthwise_kernel + 1) // cfg.pool

    def reset_parameters(self) -> None:
        """Re-draw every weight from torch's RNG (wrap in :meth:`seeded` to reproduce one).

        Keras' glorot-uniform with the fans Keras computes from its kernel
        layouts, zero biases, BatchNorm at identity.
        """
        for layer in (
            self.merge_bn, self.temporal_bn, self.node_bn, self.node_mp, self.region_mp,
            self.region_attention_head, self.region_attention_node, self.global_attention_head, self.global_attention_node,
        ):  # fmt: skip
            layer.reset_parameters()
        cfg = self.config
        n_ch, taps = len(self.channels), cfg.temporal_kernel
        glorot_uniform_(self.temporal_kernels, taps, taps * cfg.n_filters)
        glorot_uniform_(self.merge, cfg.n_filters * n_ch, cfg.n_filters)
        glorot_uniform_(self.temporal_depthwise, cfg.depthwise_kernel * n_ch, cfg.depthwise_kernel)
        k = cfg.node_kernel
        for part, n in zip(self.node_depthwise.split(self.region_sizes), self.region_sizes, strict=True):
            glorot_uniform_(part, k * n, k)
        for kernel in self.node_pointwise:
            glorot_uniform_(kernel, len(kernel), len(kernel))
        glorot_uniform_(self.classifier.weight, self.classifier.in_features, self.classifier.out_features)
        nn.init.zeros_(self.classifier.bias)
        if self.peripheral_fusion is not None:
            self.peripheral_fusion.reset_parameters()

    def forward(self, x: torch.Tensor, peripheral: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from windows ``(n_batch, n_channels, n_times)``.

        ``peripheral`` ``(n_batch, n_peripheral_features)`` (NaN = missing) is
        required with peripheral nodes and refused without.
        """
        self.check_input(x)
        check_peripheral(self, self.peripheral_fusion, x, peripheral)
        if not (self.training or torch.is_grad_enabled()) and len(x) < self.FROZEN_MAX_BATCH:
            return frozen_forward(self, x, peripheral)
        head = self.temporal_head(x)
        node = self.node_level(head)
        head_mean, node_mean = head.mean(dim=-1), node.mean(dim=-1)
        regions_head = self.region_attention_head(head_mean)
        regions_node = self.region_attention_node(node_mean)
        global_node = self.global_attention_head(regions_head) + self.global_attention_node(regions_node)
        if self.peripheral_fusion is not None:
            global_node = self.peripheral_fusion(global_node.T, peripheral).T
        features = torch.cat([head_mean + node_mean, self.region_mp(regions_head) + regions_node, global_node]).T
        return self.classifier(F.dropout(features, self.config.dropout, self.training))

    def temporal_head(self, x: torch.Tensor) -> torch.Tensor:
        """Feature head: ``(n_batch, n_channels, n_times)`` -> channel-major ``(n_channels, n_batch, n_pooled)``."""
        cfg = self.config
        kernel = self.merge @ self.temporal_kernels
        scale, shift = frozen_affine(self.merge_bn)
        y = self.toeplitz(x.transpose(0, 1), kernel * scale[:, None], shift)
        y = bn_elu(self.merge_bn, y)
        scale, shift = frozen_affine(self.temporal_bn)
        y = bn_elu(self.temporal_bn, depthwise_taps(y, self.temporal_depthwise * scale[:, None], "valid", shift))
        return F.dropout(average_pool(y, cfg.pool, self.n_pooled), cfg.dropout, self.training)

    def node_level(self, head: torch.Tensor) -> torch.Tensor:
        """Per-region message passing + separable conv + BN + ELU (``X_agg``), channel-major in and out."""
        mixed = depthwise_taps(self.node_mp(head), self.node_depthwise, "same")
        scale, shift = frozen_affine(self.node_bn)
        pointwise = torch.block_diag(*self.node_pointwise).T * scale[:, None]
        flat = mixed.reshape(mixed.shape[0], -1)
        out = pointwise @ flat if shift is None else torch.addmm(shift[:, None], pointwise, flat)
        return bn_elu(self.node_bn, out.reshape(mixed.shape))

    def frozen_weights(self) -> FrozenWeights:
        """The eval-mode weights :meth:`forward` uses without gradients, rebuilt when a parameter or buffer changes.

        A change is any in-place update (optimiser step, ``load_state_dict``,
        max-norm, BatchNorm statistics), seen through the tensors' version
        counters (:func:`~graphs.models.histn_frozen.weights_key`), or a move
        to other memory (``model.to(device)``).
        """
        key = weights_key(self)
        if self._frozen is None or self._frozen.key != key:
            with torch.no_grad():
                self._frozen = fold_weights(self, key)
        return self._frozen
