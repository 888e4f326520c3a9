"""Losses of the deep-model training: a batch's training loss, Lin's CCC loss and the validation loss."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from biosig.errors import ConfigError
from graphs.training.batches import Inputs, as_tensors, n_rows, take_rows


def evaluate_loss(
    model: nn.Module,
    x: Inputs,
    y: np.ndarray,
    device: torch.device | str = "cpu",
    batch_size: int = 2048,
    regression_loss: str | None = None,
) -> float:
    """Loss of ``model`` (eval mode, no gradients) on ``x`` ``(n, ...)`` and ``y`` ``(n,)``.

    Mean one-hot cross-entropy against class indices ``y``; with
    ``regression_loss`` (``"mse"``, ``"ccc"``) that loss of the first output
    against float targets ``y`` over all ``n`` rows at once (CCC is not a
    mean over batches).
    """
    was_training = model.training
    model.eval()
    total = 0.0
    outputs = []
    try:
        with torch.no_grad():
            for lo in range(0, n_rows(x), batch_size):
                xb = as_tensors(take_rows(x, slice(lo, lo + batch_size)), device)
                if regression_loss is not None:
                    outputs.append(model(*xb))
                    continue
                yb = torch.as_tensor(np.asarray(y[lo : lo + batch_size]), dtype=torch.int64).to(device)
                total += float(F.cross_entropy(model(*xb), yb, reduction="sum"))
            if regression_loss is not None:
                targets = torch.as_tensor(np.asarray(y, dtype=np.float32)[:, None]).to(device)
                return float(batch_loss(torch.cat(outputs), targets, regression_loss))
    finally:
        model.train(was_training)
    return total / n_rows(x)


def ccc_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 - CCC`` of two ``(n,)`` tensors, differentiable; Lin's CCC with population moments.

    ``CCC = 2 cov(p, t) / (var p + var t + (mean p - mean t)^2)``, as
    :func:`graphs.training.ordinal_metrics.concordance_correlation`. Written
    in torch because the metric libraries' CCC is not differentiable.
    """
    dp, dt = predicted - predicted.mean(), target - target.mean()
    denominator = dp.pow(2).mean() + dt.pow(2).mean() + (predicted.mean() - target.mean()) ** 2
    # A batch of one repeated target predicted exactly is 0/0; the epsilon makes it a loss of 1, not NaN.
    return 1.0 - 2.0 * (dp * dt).mean() / (denominator + 1e-12)


def batch_loss(scores: torch.Tensor, targets: torch.Tensor, kind: str | None) -> torch.Tensor:
    """Training loss of a batch: soft-target cross-entropy (``kind`` None) or a regression loss of the first output.

    ``scores`` ``(n, n_outputs)``; ``targets`` ``(n, n_classes)`` soft targets or ``(n, 1)`` values.
    """
    if kind is None:
        return -(targets * F.log_softmax(scores, dim=1)).sum(dim=1).mean()
    if kind == "mse":
        return F.mse_loss(scores[:, :1], targets)
    if kind == "ccc":
        return ccc_loss(scores[:, 0], targets[:, 0])
    raise ConfigError(f"train.regression_loss {kind!r} is not one of ['mse', 'ccc']")
