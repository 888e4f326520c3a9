"""Training loop of the deep models (HiSTN's recipe by default) and checkpoints.

:func:`fit` trains any ``torch.nn.Module`` mapping a batch ``(n, ...)`` to
logits ``(n, n_classes)`` (inputs may be a tuple of row-aligned arrays, e.g.
EEG windows and peripheral features, passed as ``model(*batches)``; :data:`Inputs`):

* **batches** of ``batch_size`` windows, class-balanced as HiSTN's
  ``sample_generator``: for each sample a class is drawn uniformly among the
  classes present, then a window of that class (``balanced: false`` draws
  windows uniformly); ``steps_per_epoch`` defaults to the training windows
  divided by the batch size, as the authors' ``steps = starts x trials / 256``;
* **loss**: cross-entropy against soft targets, ``-sum_k q_k log p_k``, with
  HiSTN's ordinal smoothing or one-hot targets (:mod:`biosig.evaluation.labels`);
  the validation loss uses one-hot targets, as the authors validate. With
  ``regression=True`` the model's first output is trained on float targets
  with ``regression_loss``: ``mse``, or ``ccc`` = 1 - Lin's concordance
  correlation of the batch (:func:`ccc_loss`, the usual loss for continuous
  valence/arousal), which then also is the validation loss, over all
  validation windows at once; balanced batches draw over the given ``strata``
  (e.g. rating bins) instead of classes;
* **optimiser**: Adam at ``lr``, set to ``lr_steps[e]`` from epoch ``e``
  (HiSTN: 1e-3, 5e-4 from epoch 30); ``model.apply_constraints()`` after
  every step when the model has it (max-norm, Keras semantics);
* **early stopping** on the validation loss with ``patience`` epochs; the
  best epoch's weights are restored at the end (the authors' checkpoint);
* **reproducibility**: every draw comes from ``numpy.random.default_rng(seed)``
  and torch's generator seeded with ``seed`` inside :func:`torch.random.fork_rng`
  (the caller's random state is left untouched); on the CPU
  ``torch.use_deterministic_algorithms(True)`` holds during training, so the
  same seed gives the same weights.

Checkpoints (:func:`save_checkpoint`) hold only tensors and a JSON string, so
:func:`load_checkpoint` reads them with ``torch.load(weights_only=True)``: a
checkpoint file cannot run code.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from biosig.config import TrainConfig
from biosig.errors import ConfigError, DataError
from graphs.training.label_smoothing import soft_targets

CHECKPOINT_FORMAT = 1

#: Model inputs: one array ``(n, ...)``, or a tuple of arrays whose rows go
#: together (EEG windows and peripheral features ``(n, n_features)`` for models
#: with peripheral nodes); batches are passed as ``model(*arrays)``.
Inputs = np.ndarray | tuple[np.ndarray, ...]


@dataclass
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    history
        Per epoch: ``epoch``, ``lr``, ``train_loss`` (soft targets) and
        ``val_loss`` (one-hot; ``None`` without validation data).
    best_epoch
        Epoch whose weights were kept (the last one without validation data).
    seconds
        Wall time of the training, s.
    device
        Device the model was trained on (``"cpu"`` or ``"cuda"``).
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def epochs_run(self) -> int:
        """Epochs trained before stopping."""
        return len(self.history)


def resolve_device(requested: str) -> torch.device:
    """``cuda`` when requested and available, else the CPU (with a warning if CUDA was requested)."""
    if requested == "cuda":
        if torch.cuda.is_available():
            return torch.device("cuda")
        warnings.warn("train.device is 'cuda' but no GPU is available; training on the CPU", RuntimeWarning, stacklevel=2)
    elif requested != "cpu":
        raise ConfigError(f"train.device {requested!r} is not one of ['cpu', 'cuda']")
    return torch.device("cpu")


def fit(
    model: nn.Module,
    x_train: Inputs,
    y_train: np.ndarray,
    x_val: Inputs | None,
    y_val: np.ndarray | None,
    n_classes: int,
    cfg: TrainConfig,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    lr_steps: dict[int, float] | None = None,
    batch_size: int | None = None,
    freeze: Sequence[str] = (),
    seed: int | None = None,
    regression: bool = False,
    strata: np.ndarray | None = None,
) -> FitResult:
    """Train ``model`` in place (see the module docstring); the best epoch's weights are kept.

    Parameters
    ----------
    model
        Maps a float32 batch ``(n, *x_train.shape[1:])`` to logits ``(n, n_classes)``
        (for a tuple ``x_train``, one batch per array: ``model(*batches)``).
    x_train, y_train
        Training inputs ``(n_train, ...)`` (or a tuple of them, :data:`Inputs`) and class indices ``(n_train,)``
        (regression: float targets ``(n_train,)``).
    x_val, y_val
        Validation inputs and class indices (regression: targets), or
        ``None``: then no early stopping, and the last epoch is kept.
    n_classes
        Number of classes of the task (regression: the model's outputs, of
        which the first is trained).
    cfg
        Training settings; the keyword arguments override ``epochs``, ``lr``,
        ``lr_steps``, ``batch_size`` and ``seed`` (fine-tuning uses them).
    freeze
        Prefixes of parameter names left untrained (e.g. ``"temporal_kernels"``).
    regression
        Train the first output on float targets with ``cfg.regression_loss``.
    strata
        Regression only: ``(n_train,)`` integer stratum of each training row
        (e.g. :func:`~biosig.evaluation.labels.rating_bins`) over which
        balanced batches draw; default: one stratum, i.e. uniform draws.

    Raises
    ------
    DataError
        Empty training data, labels outside ``0..n_classes-1``, non-finite
        regression targets or strata not matching the training rows.
    """
    epochs = cfg.epochs if epochs is None else epochs
    lr = cfg.lr if lr is None else lr
    lr_steps = dict(cfg.lr_steps if lr_steps is None else lr_steps)
    batch_size = cfg.batch_size if batch_size is None else batch_size
    seed = cfg.seed if seed is None else seed
    if regression:
        y_train = _check_values(y_train, "training")
        draw_on = np.zeros(len(y_train), np.int64) if strata is None else np.asarray(strata)
        if draw_on.shape != y_train.shape or not np.issubdtype(draw_on.dtype, np.integer):
            raise DataError(f"strata must be {y_train.shape} integers, one per training row; got {draw_on.dtype} {draw_on.shape}")
    else:
        y_train = draw_on = _check_labels(y_train, n_classes, "training")
    loss_kind = cfg.regression_loss if regression else None
    if n_rows(x_train) != len(y_train) or not n_rows(x_train):
        raise DataError(f"training data: {n_rows(x_train)} inputs and {len(y_train)} labels; need equal, non-zero counts")
    has_val = x_val is not None and y_val is not None and n_rows(x_val) > 0
    if has_val:
        y_val = _check_values(y_val, "validation") if regression else _check_labels(y_val, n_classes, "validation")
    device = resolve_device(cfg.device)
    frozen = [name for name, _ in model.named_parameters() if name.startswith(tuple(freeze))]
    if freeze and not frozen:
        raise ConfigError(f"freeze prefixes {list(freeze)} match no parameter of {type(model).__name__}")
    params = [p for name, p in model.named_parameters() if name not in frozen]

    soft = y_train[:, None] if regression else soft_targets(y_train, n_classes, cfg.label_mode, cfg.sigma)
    targets = torch.as_tensor(soft, dtype=torch.float32)
    steps = cfg.steps_per_epoch or math.ceil(n_rows(x_train) / batch_size)
    rng = np.random.default_rng(seed)
    result = FitResult(device=device.type)
    best_loss, best_state, stale = math.inf, None, 0
    start = time.perf_counter()
    model.to(device)
    with _reproducible(seed, device, cfg.threads):
        optimizer = torch.optim.Adam(params, lr=lr)
        for epoch in range(epochs):
            rate = _rate_at(epoch, lr, lr_steps)
            for group in optimizer.param_groups:
                group["lr"] = rate
            model.train()
            total = 0.0
            for _ in range(steps):
                rows = draw_batch(rng, draw_on, batch_size, cfg.balanced)
                xb = as_tensors(take_rows(x_train, rows), device)
                loss = _loss(model(*xb), targets[rows].to(device), loss_kind)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if hasattr(model, "apply_constraints"):
                    model.apply_constraints()
                total += float(loss.detach())
            val_loss = evaluate_loss(model, x_val, y_val, device, regression_loss=loss_kind) if has_val else None
            result.history.append({"epoch": epoch, "lr": rate, "train_loss": total / steps, "val_loss": val_loss})
            if not has_val:
                continue
            if val_loss < best_loss:
                best_loss, stale, result.best_epoch = val_loss, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if cfg.patience is not None and stale >= cfg.patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        result.best_epoch = len(result.history) - 1
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


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
                return float(_loss(torch.cat(outputs), targets, regression_loss))
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


def _loss(scores: torch.Tensor, targets: torch.Tensor, kind: str | None) -> torch.Tensor:
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


def save_checkpoint(path: str | Path, model: nn.Module, metadata: dict[str, Any]) -> Path:
    """Save the model's weights and JSON-able ``metadata`` (e.g. model name, hyper-parameters, config).

    The file holds ``{"format": int, "state_dict": {name: tensor}, "metadata": json string}``,
    which :func:`torch.load` reads with ``weights_only=True``.

    Raises
    ------
    ConfigError
        ``metadata`` is not JSON-serialisable (the message names the problem).
    """
    try:
        text = json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"checkpoint metadata must be JSON-serialisable: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "state_dict": state, "metadata": text}, path)
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint with ``torch.load(weights_only=True)``: ``(state_dict, metadata)``.

    Raises
    ------
    DataError
        The file is missing, not a checkpoint of this format, or holds
        anything but tensors and the JSON metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for foreign or unsafe files
        raise DataError(f"checkpoint {path} cannot be read safely: {exc}") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT or not isinstance(blob.get("metadata"), str):
        raise DataError(f"checkpoint {path} is not a biosig checkpoint (format {CHECKPOINT_FORMAT})")
    state = blob.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"checkpoint {path}: state_dict must map names to tensors")
    return state, json.loads(blob["metadata"])


def _rate_at(epoch: int, lr: float, lr_steps: dict[int, float]) -> float:
    """Learning rate of ``epoch``: the step with the largest start <= epoch, else ``lr``."""
    started = [e for e in lr_steps if e <= epoch]
    return lr_steps[max(started)] if started else lr


def draw_batch(rng: np.random.Generator, y: np.ndarray, n: int, balanced: bool = True) -> np.ndarray:
    """Row indices ``(n,)`` of one training batch.

    Parameters
    ----------
    rng
        The training's random generator.
    y
        ``(n_rows,)`` class index of every training row.
    n
        Batch size.
    balanced
        HiSTN's sampling: for each sample a class uniformly among the classes
        present, then a row of that class uniformly; otherwise rows uniformly.
    """
    if not balanced:
        return rng.integers(0, len(y), n)
    classes, counts = np.unique(y, return_counts=True)
    order = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = rng.integers(0, len(classes), n)
    return order[starts[pick] + (rng.random(n) * counts[pick]).astype(np.int64)]


def n_rows(x: Inputs) -> int:
    """Rows of model inputs (see :data:`Inputs`).

    Raises
    ------
    DataError
        The arrays of a tuple have different numbers of rows.
    """
    if not isinstance(x, tuple):
        return len(x)
    counts = [len(a) for a in x]
    if len(set(counts)) != 1:
        raise DataError(f"model inputs have different numbers of rows: {counts}")
    return counts[0]


def take_rows(x: Inputs, rows: np.ndarray | slice) -> Inputs:
    """The same ``rows`` of every array of ``x``."""
    return tuple(a[rows] for a in x) if isinstance(x, tuple) else x[rows]


def as_tensors(x: Inputs, device: torch.device | str) -> tuple[torch.Tensor, ...]:
    """float32 tensors on ``device``, one per array of ``x``, for ``model(*tensors)``."""
    return tuple(torch.as_tensor(a, dtype=torch.float32).to(device) for a in (x if isinstance(x, tuple) else (x,)))


@contextlib.contextmanager
def _reproducible(seed: int, device: torch.device, threads: int | None) -> Iterator[None]:
    """Seed torch inside a forked RNG, deterministic kernels on the CPU, ``threads`` torch threads; restore all after."""
    devices = [device.index or 0] if device.type == "cuda" else []
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(was_deterministic)
            torch.set_num_threads(was_threads)


def _check_values(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or not np.isfinite(y).all():
        raise DataError(f"{what} regression targets must be a finite 1-D array, got shape {y.shape}")
    return y


def _check_labels(y: np.ndarray, n_classes: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"{what} labels must be class indices 0..{n_classes - 1}, got {np.unique(y)[:8].tolist()}")
    return y.astype(np.int64)
