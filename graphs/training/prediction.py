"""Batched inference of a trained model: class probabilities or regression values, eval mode, no gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from biosig.errors import DataError
from graphs.training.batches import Inputs, as_tensors, n_rows, take_rows


def predict_proba(model: nn.Module, x: Inputs, batch_size: int = 2048) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` float64 of ``x`` ``(n, ...)`` (eval mode, no gradients).

    Runs on the device of the model's parameters.
    """
    return _batched_outputs(model, x, batch_size, lambda out: out.double().softmax(dim=1), "predict_proba")


def predict_values(model: nn.Module, x: Inputs, batch_size: int = 2048) -> np.ndarray:
    """A regression model's first output ``(n,)`` float64 for ``x`` ``(n, ...)`` (eval mode, no gradients).

    Runs on the device of the model's parameters.
    """
    return _batched_outputs(model, x, batch_size, lambda out: out[:, 0].double(), "predict_values")


def _batched_outputs(
    model: nn.Module, x: Inputs, batch_size: int, transform: Callable[[torch.Tensor], torch.Tensor], caller: str
) -> np.ndarray:
    """``transform(model(batch))`` over ``x`` in batches, concatenated; the model's mode is restored after."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for lo in range(0, n_rows(x), batch_size):
                xb = as_tensors(take_rows(x, slice(lo, lo + batch_size)), device)
                out.append(transform(model(*xb)).cpu().numpy())
    finally:
        model.train(was_training)
    if not out:
        raise DataError(f"{caller} got no windows (x has length 0)")
    return np.concatenate(out)
