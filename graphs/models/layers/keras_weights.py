"""Keras' weight initialisation and max-norm constraint, to reproduce the published Keras models' scales."""

from __future__ import annotations

import math

import torch


def glorot_uniform_(tensor: torch.Tensor, fan_in: int, fan_out: int) -> torch.Tensor:
    """Keras' ``glorot_uniform`` with explicit fans: U(-a, a), ``a = sqrt(6 / (fan_in + fan_out))``.

    Keras computes fans from its own kernel layouts (e.g. a depthwise kernel
    ``(kh, kw, in, multiplier)``), which differ from torch's; giving them
    explicitly reproduces the published models' initial scales.
    """
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


def max_norm_(weight: torch.Tensor, max_value: float, dim: tuple[int, ...]) -> None:
    """Rescale ``weight`` in place so that its norm over ``dim`` is at most ``max_value``.

    Keras' ``MaxNorm`` formula, ``w * clip(n, 0, max) / (eps + n)`` with
    ``eps = 1e-7``, applied after each optimiser step as Keras applies
    constraints. ``dim=()`` takes the norm of each element alone, i.e. bounds
    ``|w|``: what Keras' default ``axis=0`` does when that kernel axis has length 1.
    """
    with torch.no_grad():
        norms = weight.abs() if not dim else torch.linalg.vector_norm(weight, dim=dim, keepdim=True)
        weight.mul_(norms.clamp(max=max_value) / (1e-7 + norms))
