"""HiSTN's frozen inference path: eval-mode weights folded once, and the forward pass on them.

Inference on a few windows at a time (eval mode, no gradients, fewer than
:attr:`~graphs.models.histn.HiSTN.FROZEN_MAX_BATCH`: the live pipeline) runs
on weights folded once and cached (:meth:`~graphs.models.histn.HiSTN.frozen_weights`,
rebuilt when any parameter or buffer changes, :func:`weights_key`): the node
level's message passing, depthwise and pointwise convs and BatchNorm become
one dense ``n_channels x n_channels x node_kernel`` conv (:func:`fold_weights`),
and each pair of attentions runs as one (:func:`frozen_forward`). The sums
are those of :meth:`~graphs.models.histn.HiSTN.forward` on the autograd path.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .layers import FrozenAttention, average_pool, frozen_affine

if TYPE_CHECKING:
    from .histn import HiSTN


@dataclass(frozen=True)
class FrozenWeights:
    """HiSTN's eval-mode weights with the BatchNorms folded in (see :func:`fold_weights`)."""

    key: tuple[tuple[int, int], ...]  # (data pointer, version) of every parameter and buffer they come from
    temporal: torch.Tensor  # (n_channels, temporal_kernel): the 8 shared filters merged per channel, merge_bn's scale
    temporal_shift: torch.Tensor  # (n_channels,) merge_bn's shift
    depthwise: torch.Tensor  # (n_channels, 1, depthwise_kernel), temporal_bn's scale
    depthwise_shift: torch.Tensor  # (n_channels,)
    node: torch.Tensor  # (n_channels, n_channels, node_kernel): the whole linear part of the node level
    node_shift: torch.Tensor  # (n_channels,) node_bn's shift
    node_pad: tuple[int, int]  # 'same' zero padding of the node conv, the extra zero on the right
    region_mp: torch.Tensor  # (n_regions, n_regions): out = region_mp @ regions
    region_attention: FrozenAttention  # region_attention_head and _node on stacked (head, node) means
    global_attention: FrozenAttention  # global_attention_head and _node on stacked (head, node) regions


def weights_key(model: nn.Module) -> tuple[tuple[int, int], ...]:
    """``(data pointer, version)`` of every parameter and buffer of ``model``: changes with any in-place update or move."""
    # The modules' own tensor dicts: about 3x faster than parameters() + buffers() (31 vs 88 µs here).
    return tuple(
        (t.data_ptr(), t._version)
        for module in model.modules()
        for t in chain(module._parameters.values(), module._buffers.values())
        if t is not None
    )


def fold_weights(model: HiSTN, key: tuple[tuple[int, int], ...]) -> FrozenWeights:
    """Fold an eval-mode HiSTN's weights (see the module docstring); ``key`` from :func:`weights_key`.

    Raises
    ------
    RuntimeError
        The model is in training mode (its BatchNorms use batch statistics).
    """
    if model.training:
        raise RuntimeError("HiSTN's frozen weights fold eval-mode BatchNorms: call model.eval() first")
    scale, shift = frozen_affine(model.merge_bn)
    temporal = (model.merge @ model.temporal_kernels) * scale[:, None]
    scale, depthwise_shift = frozen_affine(model.temporal_bn)
    depthwise = (model.temporal_depthwise * scale[:, None])[:, None, :]
    # node_level(y)[d] = sum_c A[d, c] sum_k w[c, k] (P^T y)[c, t + k - left] with A the scaled pointwise
    # kernel, P the Chebyshev filter and w the depthwise taps: one dense conv with kernel A diag(w_k) P^T.
    scale, node_shift = frozen_affine(model.node_bn)
    pointwise = torch.block_diag(*model.node_pointwise).T * scale[:, None]
    node = torch.einsum("dc,ck,ce->dek", pointwise, model.node_depthwise, model.node_mp.filter_matrix().T)
    left = (model.config.node_kernel - 1) // 2
    assert shift is not None and depthwise_shift is not None and node_shift is not None
    return FrozenWeights(
        key=key,
        temporal=temporal.contiguous(),
        temporal_shift=shift,
        depthwise=depthwise.contiguous(),
        depthwise_shift=depthwise_shift,
        node=node.contiguous(),
        node_shift=node_shift,
        node_pad=(left, model.config.node_kernel - 1 - left),
        region_mp=model.region_mp.filter_matrix().T.contiguous(),
        region_attention=FrozenAttention([model.region_attention_head, model.region_attention_node]),
        global_attention=FrozenAttention([model.global_attention_head, model.global_attention_node]),
    )


def frozen_forward(model: HiSTN, x: torch.Tensor, peripheral: torch.Tensor | None) -> torch.Tensor:
    """HiSTN's forward in eval mode without gradients: the same sums on its frozen weights, in fewer operations.

    For the live pipeline, which predicts one window at a time and whose
    cost is mostly per operation: the node level's message passing,
    depthwise and pointwise convolutions and BatchNorm, all linear, run as
    one dense convolution; the two region attentions run as one, as do the
    two global ones. Internal tensors are batch-major ``(n_batch, n_channels, n_times)``.
    Input ``x`` ``(n_batch, n_channels, n_times)``, output ``(n_batch, n_outputs)``.
    """
    w = model.frozen_weights()
    cfg = model.config
    n_regions = len(model.region_sizes)
    y = model.toeplitz(x.transpose(0, 1), w.temporal, w.temporal_shift).transpose(0, 1)
    y = F.conv1d(F.elu(y), w.depthwise, w.depthwise_shift, groups=len(model.channels))
    head = average_pool(F.elu(y, inplace=True), cfg.pool, model.n_pooled)
    node = F.elu(F.conv1d(F.pad(head, w.node_pad), w.node, w.node_shift), inplace=True)
    head_mean, node_mean = head.mean(dim=-1).T, node.mean(dim=-1).T
    regions = w.region_attention(torch.cat([head_mean, node_mean]))
    regions_head, regions_node = regions.split(n_regions)
    global_node = w.global_attention(regions).sum(dim=0, keepdim=True)
    if model.peripheral_fusion is not None:
        global_node = model.peripheral_fusion(global_node.T, peripheral).T
    features = torch.cat([head_mean + node_mean, w.region_mp @ regions_head + regions_node, global_node]).T
    return model.classifier(features)
