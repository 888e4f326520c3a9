"""Training loop of the deep models (HiSTN's recipe by default) and checkpoints.

:func:`fit` trains any ``torch.nn.Module`` mapping a batch ``(n, ...)`` to
logits ``(n, n_classes)``:

* **batches** of ``batch_size`` windows, class-balanced as HiSTN's
  ``sample_generator``: for each sample a class is drawn uniformly among the
  classes present, then a window of that class (``balanced: false`` draws
  windows uniformly); ``steps_per_epoch`` defaults to the training windows
  divided by the batch size, as the authors' ``steps = starts x trials / 256``;
* **loss**: cross-entropy against soft targets, ``-sum_k q_k log p_k``, with
  HiSTN's ordinal smoothing or one-hot targets (:mod:`biosig.evaluation.labels`);
  the validation loss uses one-hot targets, as the authors validate;
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from biosig.config import TrainConfig
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import soft_targets

CHECKPOINT_FORMAT = 1


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
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
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
) -> FitResult:
    """Train ``model`` in place (see the module docstring); the best epoch's weights are kept.

    Parameters
    ----------
    model
        Maps a float32 batch ``(n, *x_train.shape[1:])`` to logits ``(n, n_classes)``.
    x_train, y_train
        Training inputs ``(n_train, ...)`` and class indices ``(n_train,)``.
    x_val, y_val
        Validation inputs and class indices, or ``None``: then no early
        stopping, and the last epoch is kept.
    n_classes
        Number of classes of the task.
    cfg
        Training settings; the keyword arguments override ``epochs``, ``lr``,
        ``lr_steps``, ``batch_size`` and ``seed`` (fine-tuning uses them).
    freeze
        Prefixes of parameter names left untrained (e.g. ``"temporal_kernels"``).

    Raises
    ------
    DataError
        Empty training data, or labels outside ``0..n_classes-1``.
    """
    epochs = cfg.epochs if epochs is None else epochs
    lr = cfg.lr if lr is None else lr
    lr_steps = dict(cfg.lr_steps if lr_steps is None else lr_steps)
    batch_size = cfg.batch_size if batch_size is None else batch_size
    seed = cfg.seed if seed is None else seed
    y_train = _check_labels(y_train, n_classes, "training")
    if len(x_train) != len(y_train) or not len(x_train):
        raise DataError(f"training data: {len(x_train)} inputs and {len(y_train)} labels; need equal, non-zero counts")
    has_val = x_val is not None and y_val is not None and len(x_val) > 0
    if has_val:
        y_val = _check_labels(y_val, n_classes, "validation")
    device = resolve_device(cfg.device)
    frozen = [name for name, _ in model.named_parameters() if name.startswith(tuple(freeze))]
    if freeze and not frozen:
        raise ConfigError(f"freeze prefixes {list(freeze)} match no parameter of {type(model).__name__}")
    params = [p for name, p in model.named_parameters() if name not in frozen]

    targets = torch.as_tensor(soft_targets(y_train, n_classes, cfg.label_mode, cfg.sigma), dtype=torch.float32)
    steps = cfg.steps_per_epoch or math.ceil(len(x_train) / batch_size)
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
                rows = draw_batch(rng, y_train, batch_size, cfg.balanced)
                xb = torch.as_tensor(x_train[rows], dtype=torch.float32).to(device)
                loss = -(targets[rows].to(device) * F.log_softmax(model(xb), dim=1)).sum(dim=1).mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if hasattr(model, "apply_constraints"):
                    model.apply_constraints()
                total += float(loss.detach())
            val_loss = evaluate_loss(model, x_val, y_val, device) if has_val else None
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
    model: nn.Module, x: np.ndarray, y: np.ndarray, device: torch.device | str = "cpu", batch_size: int = 2048
) -> float:
    """Mean one-hot cross-entropy of ``model`` (eval mode, no gradients) on ``x`` ``(n, ...)``, ``y`` ``(n,)``."""
    was_training = model.training
    model.eval()
    total = 0.0
    try:
        with torch.no_grad():
            for lo in range(0, len(x), batch_size):
                xb = torch.as_tensor(x[lo : lo + batch_size], dtype=torch.float32).to(device)
                yb = torch.as_tensor(np.asarray(y[lo : lo + batch_size]), dtype=torch.int64).to(device)
                total += float(F.cross_entropy(model(xb), yb, reduction="sum"))
    finally:
        model.train(was_training)
    return total / len(x)


def predict_proba(model: nn.Module, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` float64 of ``x`` ``(n, ...)`` (eval mode, no gradients).

    Runs on the device of the model's parameters.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for lo in range(0, len(x), batch_size):
                xb = torch.as_tensor(x[lo : lo + batch_size], dtype=torch.float32).to(device)
                out.append(model(xb).double().softmax(dim=1).cpu().numpy())
    finally:
        model.train(was_training)
    if not out:
        raise DataError("predict_proba got no windows (x has length 0)")
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


def _check_labels(y: np.ndarray, n_classes: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"{what} labels must be class indices 0..{n_classes - 1}, got {np.unique(y)[:8].tolist()}")
    return y.astype(np.int64)
