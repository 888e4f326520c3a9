"""HierarchicalGNN: HiSTN's hierarchy with the channel-level message passing of any PyG convolution.

Input: raw windows ``(n_batch, n_channels, n_times)`` in ``hierarchy.channels``
order, or a PyG batch of them (:func:`graphs.pyg.to_pyg` with the windows as
node features ``(n_windows, n_channels, n_times)``), whose edges are the graph.
Levels, as in :mod:`graphs.models.histn` (same names, same temporal head options):

* temporal head: HiSTN's (shared temporal filters merged per channel, BN, ELU,
  per-channel conv, BN, ELU, average pooling, dropout) -> ``n_pooled`` steps per channel;
* channel level: the pooled series of each channel is its node feature
  (``n_pooled`` wide); the conv named by ``conv`` (``cheb_scalar``: HiSTN's
  Chebyshev filter with scalar weights per order and region,
  :class:`~graphs.models.layers.pyg_convs.ScalarChebConv`; ``cheb``, ``gcn``,
  ``gat``, ``gin``, ``sage``: torch_geometric.nn's ChebConv, GCNConv, GATConv,
  GINConv, SAGEConv, ``n_pooled -> n_pooled``) runs on the channel graph
  (``graph``: :mod:`graphs.models.hierarchical_graphs`), then HiSTN's
  separable conv per region, BatchNorm and ELU; the residual adds the head;
* channels -> regions -> global node: ``pooling="attention"`` is HiSTN's
  (two :class:`~graphs.models.layers.RegionAttention` branches per level,
  region message passing on the region ring by :class:`ScalarChebConv`), ``mean``
  or ``max`` pool the same signals without parameters. As in HiSTN these
  levels work on time averages;
* peripheral nodes (``peripheral``): ECG/EDA at the global level by
  :class:`~graphs.models.layers.PeripheralFusion`, as in HiSTN.

With ``conv="cheb_scalar"``, ``graph="hierarchy"``, ``pooling="attention"``
(:func:`histn_equivalent`) the parameters are HiSTN's, name for name, and the
output is HiSTN's on the same weights (``load_state_dict(histn.state_dict())``;
checked to 1e-5 in the tests). PyG's own ChebConv cannot be configured so: it
learns an ``in x out`` matrix per order on the normalised Laplacian with a
fixed ``lambda_max``; HiSTN learns one scalar per order on each region's
combinatorial Laplacian scaled by its exact ``lambda_max``, hence the small
MessagePassing conv.

torch_geometric is imported when a HierarchicalGNN is built, not with the
model zoo: it about doubles the import time of ``graphs.models``, which the
live pipeline (dense HiSTN) imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from biosig.errors import DataError

from .base import EEGModel, register
from .histn import HiSTN, HiSTNConfig
from .layers import (
    PeripheralFusion,
    RegionAttention,
    ToeplitzDepthwise,
    bn_elu,
    check_peripheral,
    depthwise_taps,
    frozen_affine,
    glorot_uniform_,
    keras_batch_norm,
)

if TYPE_CHECKING:
    from torch_geometric.data import Batch

#: Channel-level convolutions by name: ``cheb_scalar`` is
#: :class:`~graphs.models.layers.pyg_convs.ScalarChebConv` (HiSTN's filter), the
#: others torch_geometric.nn's ChebConv, GCNConv, GATConv, GINConv, SAGEConv.
ConvName = Literal["cheb_scalar", "cheb", "gcn", "gat", "gin", "sage"]
GraphKind = Literal["hierarchy", "spatial", "functional", "learnable"]
Pooling = Literal["attention", "mean", "max"]


class HierarchicalGNNConfig(HiSTNConfig):
    """HiSTN's hyper-parameters (temporal head, node and region levels, peripheral nodes) plus the GNN's choices.

    Attributes
    ----------
    conv
        Channel-level convolution (see the module docstring).
    graph
        Channel graph for dense input: ``hierarchy`` (intra-region edges),
        ``spatial`` (k nearest electrodes), ``functional`` (``|Pearson|`` per
        window) or ``learnable``.
    spatial_k
        Neighbours per channel of the spatial graph.
    within_regions
        Keep only the graph's edges inside a region (HiSTN: yes).
    pooling
        Channels -> regions -> global: ``attention`` (HiSTN), ``mean`` or ``max``.
    """

    conv: ConvName = "gcn"
    graph: GraphKind = "hierarchy"
    spatial_k: int = Field(3, ge=1)
    within_regions: bool = True
    pooling: Pooling = "attention"

    @model_validator(mode="after")
    def _conv_orders(self) -> HierarchicalGNNConfig:
        if self.conv != "cheb_scalar" and isinstance(self.node_hops, tuple):
            raise ValueError(f"node_hops per region needs conv='cheb_scalar', got conv={self.conv!r}")
        if self.graph == "spatial" and self.spatial_k >= len(self.hierarchy.channels):
            raise ValueError(f"spatial_k={self.spatial_k} needs more than {len(self.hierarchy.channels)} channels")
        return self


def histn_equivalent(config: HiSTNConfig) -> HierarchicalGNNConfig:
    """The HierarchicalGNN config that computes HiSTN ``config``'s model (scalar Chebyshev conv, attention pooling)."""
    fields = {name: getattr(config, name) for name in HiSTNConfig.model_fields}
    return HierarchicalGNNConfig(**fields, conv="cheb_scalar", graph="hierarchy", within_regions=True, pooling="attention")


@register("hierarchical_gnn")
class HierarchicalGNN(EEGModel):
    """Hierarchical GNN on PyG (see the module docstring); output ``(n_batch, n_outputs)``.

    Built on HiSTN's layers (temporal head, separable conv, attention,
    constraints, initialisation); the channel-level conv, the graph, the pooling
    and the inputs are its own.
    """

    config_class = HierarchicalGNNConfig
    input_dims = ("channel", "time")
    config: HierarchicalGNNConfig
    channels = HiSTN.channels
    input_shape = HiSTN.input_shape
    n_pooled = HiSTN.n_pooled
    temporal_head = HiSTN.temporal_head

    def __init__(self, config: HierarchicalGNNConfig | None = None, *, seed: int = 0) -> None:
        from .hierarchical_graphs import ChannelGraph
        from .layers.pyg_convs import ScalarChebConv, block_scaled_laplacian, make_channel_conv

        super().__init__(config or HierarchicalGNNConfig())
        cfg = self.config
        hier = cfg.hierarchy
        self.region_sizes = tuple(len(chs) for _, chs in hier.regions)
        n_ch, n_reg = len(hier.channels), len(self.region_sizes)
        attention = cfg.pooling == "attention"
        self.peripheral_fusion: PeripheralFusion | None = None
        with self.seeded(seed):
            self.temporal_kernels = nn.Parameter(torch.empty(cfg.n_filters, cfg.temporal_kernel))
            self.merge = nn.Parameter(torch.empty(n_ch, cfg.n_filters))
            self.merge_bn = keras_batch_norm(n_ch)
            self.temporal_depthwise = nn.Parameter(torch.empty(n_ch, cfg.depthwise_kernel))
            self.temporal_bn = keras_batch_norm(n_ch)
            hops = cfg.hops_per_region
            self.node_mp = make_channel_conv(cfg.conv, self.n_pooled, max(hops), self.region_sizes, hops)
            self.node_depthwise = nn.Parameter(torch.empty(n_ch, cfg.node_kernel))
            self.node_pointwise = nn.ParameterList([nn.Parameter(torch.empty(n, n)) for n in self.region_sizes])
            self.node_bn = keras_batch_norm(n_ch)
            self.region_attention_head = RegionAttention(self.region_sizes) if attention else None
            self.region_attention_node = RegionAttention(self.region_sizes) if attention else None
            self.region_mp = ScalarChebConv([n_reg], [cfg.region_hops])
            self.global_attention_head = RegionAttention([n_reg]) if attention else None
            self.global_attention_node = RegionAttention([n_reg]) if attention else None
            self.classifier = nn.Linear(n_ch + n_reg + 1, cfg.n_outputs)
            self.reset_parameters()
            if cfg.peripheral:
                self.peripheral_fusion = PeripheralFusion(
                    [n for _, n in cfg.peripheral], 1, cfg.peripheral_hierarchy().global_adjacency()
                )
            self.channel_graph = ChannelGraph(cfg, seed=seed)
        region_operator = block_scaled_laplacian(hier.region_adjacency(), [n_reg])
        self.register_buffer("region_operator", torch.tensor(region_operator, dtype=torch.float32), persistent=False)
        self.toeplitz = ToeplitzDepthwise(cfg.temporal_kernel, cfg.n_times)
        self.add_max_norm("merge", 1.0, ())
        self.add_max_norm("temporal_depthwise", 1.0, (1,))
        for i in range(n_reg):
            self.add_max_norm(f"node_pointwise.{i}", 1.0, ())

    def reset_parameters(self) -> None:
        """HiSTN's initialisation (Keras' glorot-uniform), each PyG conv's own ``reset_parameters``."""
        layers = [self.merge_bn, self.temporal_bn, self.node_bn, self.node_mp, self.region_mp]
        attention = [self.region_attention_head, self.region_attention_node, self.global_attention_head, self.global_attention_node]
        for layer in [*layers, *(a for a in attention if a is not None)]:
            layer.reset_parameters()  # type: ignore[operator]
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

    def windows(self, x: torch.Tensor | Batch) -> tuple[torch.Tensor, Batch | None]:
        """Dense windows ``(n_batch, n_channels, n_times)`` of ``x``, and the PyG batch if ``x`` is one."""
        if isinstance(x, torch.Tensor):
            self.check_input(x)
            return x, None
        n_ch, n_times = self.input_shape
        if x.x.ndim != 2 or x.x.shape != (x.num_graphs * n_ch, n_times):
            raise DataError(
                f"HierarchicalGNN expects a PyG batch of graphs with {n_ch} nodes x {n_times} features; "
                f"got node features {tuple(x.x.shape)} for {x.num_graphs} graphs"
            )
        return x.x.view(x.num_graphs, n_ch, n_times), x

    def forward(self, x: torch.Tensor | Batch, peripheral: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``(n_batch, n_outputs)`` from windows ``(n_batch, n_channels, n_times)`` or a PyG batch of them.

        ``peripheral`` ``(n_batch, n_peripheral_features)`` (NaN = missing) is
        required with peripheral nodes and refused without.
        """
        windows, batch = self.windows(x)
        check_peripheral(self, self.peripheral_fusion, windows, peripheral)
        edge_index, edge_weight = self.channel_graph(windows, batch)
        head = self.temporal_head(windows)
        node = self.graph_node_level(head, edge_index, edge_weight)
        head_mean, node_mean = head.mean(dim=-1), node.mean(dim=-1)
        regions_head, regions_node = self.pool_regions(head_mean, node_mean)
        global_node = self.pool_global(regions_head, regions_node)
        if self.peripheral_fusion is not None:
            global_node = self.peripheral_fusion(global_node.T, peripheral).T
        features = torch.cat([head_mean + node_mean, self.region_level(regions_head) + regions_node, global_node]).T
        return self.classifier(F.dropout(features, self.config.dropout, self.training))

    def graph_node_level(self, head: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        """Channel-level conv on the PyG edges + separable conv + BN + ELU, channel-major ``(n_channels, n_batch, n_pooled)``."""
        from .layers.pyg_convs import run_conv

        n_ch, n_batch, n_steps = head.shape
        nodes = head.transpose(0, 1).reshape(n_batch * n_ch, n_steps)
        passed = run_conv(self.node_mp, self.config.conv, nodes, edge_index, edge_weight)
        passed = passed.view(n_batch, n_ch, n_steps).transpose(0, 1)
        mixed = depthwise_taps(passed.contiguous(), self.node_depthwise, "same")
        scale, shift = frozen_affine(self.node_bn)
        pointwise = torch.block_diag(*self.node_pointwise).T * scale[:, None]
        flat = mixed.reshape(n_ch, -1)
        out = pointwise @ flat if shift is None else torch.addmm(shift[:, None], pointwise, flat)
        return bn_elu(self.node_bn, out.reshape(mixed.shape))

    def pool_regions(self, head_mean: torch.Tensor, node_mean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Region signals ``(n_regions, n_batch)`` of the two branches from channel time averages ``(n_channels, n_batch)``."""
        if self.region_attention_head is not None and self.region_attention_node is not None:
            return self.region_attention_head(head_mean), self.region_attention_node(node_mean)
        reduce = torch.amax if self.config.pooling == "max" else torch.mean
        head_regions, node_regions = (
            torch.stack([reduce(part, dim=0) for part in m.split(self.region_sizes)]) for m in (head_mean, node_mean)
        )
        return head_regions, node_regions

    def pool_global(self, regions_head: torch.Tensor, regions_node: torch.Tensor) -> torch.Tensor:
        """Global node ``(1, n_batch)``: the pooled region signals of both branches, summed."""
        if self.global_attention_head is not None and self.global_attention_node is not None:
            return self.global_attention_head(regions_head) + self.global_attention_node(regions_node)
        reduce = torch.amax if self.config.pooling == "max" else torch.mean
        return reduce(regions_head, dim=0, keepdim=True) + reduce(regions_node, dim=0, keepdim=True)

    def region_level(self, regions: torch.Tensor) -> torch.Tensor:
        """Region message passing on the region graph (PyG edges of its scaled Laplacian), ``(n_regions, n_batch)``."""
        from .layers.pyg_convs import dense_to_edges

        n_reg, n_batch = regions.shape
        edge_index, edge_weight = dense_to_edges(self.region_operator.expand(n_batch, n_reg, n_reg))
        out = self.region_mp(regions.T.reshape(-1, 1), edge_index, edge_weight)
        return out.view(n_batch, n_reg).T

