"""BatchNorm with Keras' defaults, and its eval-mode form folded into the linear operation before it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def keras_batch_norm(n_channels: int) -> nn.BatchNorm1d:
    """BatchNorm with Keras' defaults (eps 1e-3, moving-average momentum 0.99)."""
    return nn.BatchNorm1d(n_channels, eps=1e-3, momentum=0.01)


def frozen_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Eval-mode BatchNorm as ``(scale, shift)``, folded into the preceding linear op; ``(1, None)`` in training.

    In training the batch statistics are needed, so :func:`bn_elu` applies the layer itself.
    """
    if bn.training:
        return bn.weight.new_ones(bn.num_features), None
    assert bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def bn_elu(bn: nn.BatchNorm1d, y: torch.Tensor) -> torch.Tensor:
    """ELU of a channel-major ``(n_channels, n_batch, n_times)`` tensor, after BatchNorm when training."""
    if bn.training:
        y = bn(y.transpose(0, 1)).transpose(0, 1)
    return F.elu(y, inplace=True)
