"""Training loop of the deep models (HiSTN's recipe by default) and checkpoints.

:func:`fit` trains any ``torch.nn.Module`` mapping a batch ``(n, ...)`` to
logits ``(n, n_classes)`` (inputs may be a tuple of row-aligned arrays, e.g.
EEG windows and peripheral features, passed as ``model(*batches)``;
:data:`~graphs.training.batches.Inputs`):

* **batches** of ``batch_size`` windows, class-balanced as HiSTN's
  ``sample_generator``: for each sample a class is drawn uniformly among the
  classes present, then a window of that class (``balanced: false`` draws
  windows uniformly); ``steps_per_epoch`` defaults to the training windows
  divided by the batch size, as the authors' ``steps = starts x trials / 256``;
  with a :class:`~graphs.training.crops.CropSampler` passed as ``crops`` the
  batches are its random crops instead (HiSTN's generator) and the steps
  default to :meth:`~graphs.training.crops.CropSampler.steps_per_epoch`;
* **loss**: cross-entropy against soft targets, ``-sum_k q_k log p_k``, with
  HiSTN's ordinal smoothing or one-hot targets (:mod:`biosig.evaluation.labels`);
  the validation loss uses one-hot targets, as the authors validate. With
  ``regression=True`` the model's first output is trained on float targets
  with ``regression_loss``: ``mse``, or ``ccc`` = 1 - Lin's concordance
  correlation of the batch (:func:`~graphs.training.losses.ccc_loss`, the usual
  loss for continuous valence/arousal), which then also is the validation loss, over all
  validation windows at once; balanced batches draw over the given ``strata``
  (e.g. rating bins) instead of classes;
* **optimiser**: Adam at ``lr``, set to ``lr_steps[e]`` from epoch ``e``
  (HiSTN: 1e-3, 5e-4 from epoch 30); ``model.apply_constraints()`` after
  every step when the model has it (max-norm, Keras semantics);
* **early stopping** on the validation loss with ``patience`` epochs; the
  best epoch's weights are restored at the end (the authors' checkpoint;
  ``keep: last`` keeps the last epoch's instead).
  A :class:`BestTracker` passed as ``best`` and shared between fits keeps the
  best loss and weights across them, as the authors' subject-dependent script
  reuses one Keras ``ModelCheckpoint(save_best_only=True)`` over its 10
  folds (off by default: each fit starts its own tracker);
* **reproducibility**: every draw comes from ``numpy.random.default_rng(seed)``
  and torch's generator seeded with ``seed`` inside :func:`torch.random.fork_rng`
  (the caller's random state is left untouched); on the CPU
  ``torch.use_deterministic_algorithms(True)`` holds during training, so the
  same seed gives the same weights.

Checkpoints (:func:`~graphs.training.checkpoints.save_checkpoint`) hold only
tensors and a JSON string, so :func:`~graphs.training.checkpoints.load_checkpoint`
reads them with ``torch.load(weights_only=True)``: a checkpoint file cannot
run code. Batches and rows of :data:`~graphs.training.batches.Inputs` are in
:mod:`graphs.training.batches`, the losses in :mod:`graphs.training.losses`,
batched inference in :mod:`graphs.training.prediction`; this module
re-exports their names.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from biosig.config import TrainConfig
from biosig.errors import ConfigError, DataError
from graphs.training.batches import Inputs, as_tensors, draw_batch, n_rows, take_rows
from graphs.training.checkpoints import load_checkpoint, save_checkpoint
from graphs.training.crops import CropSampler
from graphs.training.label_smoothing import soft_targets
from graphs.training.losses import batch_loss, ccc_loss, evaluate_loss
from graphs.training.prediction import predict_proba, predict_values

__all__ = [
    "BestTracker",
    "FitResult",
    "Inputs",
    "as_tensors",
    "ccc_loss",
    "draw_batch",
    "evaluate_loss",
    "fit",
    "load_checkpoint",
    "n_rows",
    "predict_proba",
    "predict_values",
    "resolve_device",
    "save_checkpoint",
    "take_rows",
]

@dataclass
class BestTracker:
    """Best validation loss seen and the weights that gave it (the checkpoint :func:`fit` restores).

    :func:`fit` makes a fresh tracker per call unless one is passed. Passing
    the **same** tracker to several fits reproduces a reading of the HiSTN
    authors' ``Dreamer_10cv.py``: one ``ModelCheckpoint(save_best_only=True)``
    serves all 10 folds and its ``best`` is not reset between ``model.fit``
    calls, so a fold whose validation loss never goes below an earlier fold's
    best saves nothing and ``load_weights`` then restores that earlier fold's
    weights, trained on data that include this fold's test block. Off by
    default; meant only to measure that effect.

    Attributes
    ----------
    loss
        Lowest validation loss so far (``inf`` before any).
    state
        ``state_dict`` copy of the weights at that loss, or ``None``.
    fits
        Fits that have used this tracker; ``owner`` is the fit (0-based) whose weights ``state`` holds.
    """

    loss: float = math.inf
    state: dict[str, torch.Tensor] | None = None
    fits: int = 0
    owner: int = -1


@dataclass
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    history
        Per epoch: ``epoch``, ``lr``, ``train_loss`` (soft targets) and
        ``val_loss`` (one-hot; ``None`` without validation data).
    best_epoch
        Epoch whose weights were kept (the last one without validation data or with ``keep: last``;
        -1 when a shared :class:`BestTracker` restored an earlier fit's weights).
    restored_earlier_fit
        The weights kept come from an earlier fit sharing the :class:`BestTracker`.
    seconds
        Wall time of the training, s.
    device
        Device the model was trained on (``"cpu"`` or ``"cuda"``).
    steps_per_epoch
        Batches per epoch.
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    restored_earlier_fit: bool = False
    seconds: float = 0.0
    device: str = "cpu"
    steps_per_epoch: int = 0

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
    best: BestTracker | None = None,
    crops: CropSampler | None = None,
    on_epoch: Callable[[int, float | None], None] | None = None,
) -> FitResult:
    """Train ``model`` in place (see the module docstring); the best epoch's weights are kept.

    Parameters
    ----------
    model
        Maps a float32 batch ``(n, *x_train.shape[1:])`` to logits ``(n, n_classes)``
        (for a tuple ``x_train``, one batch per array: ``model(*batches)``).
    x_train, y_train
        Training inputs ``(n_train, ...)`` (or a tuple of them, :data:`~graphs.training.batches.Inputs`)
        and class indices ``(n_train,)``
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
    best
        Best-epoch tracking; default a fresh :class:`BestTracker` (today's
        behaviour). A tracker shared with earlier fits carries their best
        loss and weights (the authors' reused checkpoint; see :class:`BestTracker`).
    crops
        Classification only: draw every training batch from this sampler
        (``cfg.balanced`` crops, labels its records'); ``x_train`` and
        ``y_train`` are then not used and may be ``None``.
    on_epoch
        Called after each epoch with the 0-based epoch and its validation loss
        (``None`` without validation data), e.g. to show progress.

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
    if crops is not None:
        if regression:
            raise ConfigError("crop sampling (train.sampling: crops) trains classifiers only, not regression")
        y_train = draw_on = _check_labels(crops.labels, n_classes, "training")
    elif regression:
        y_train = _check_values(y_train, "training")
        draw_on = np.zeros(len(y_train), np.int64) if strata is None else np.asarray(strata)
        if draw_on.shape != y_train.shape or not np.issubdtype(draw_on.dtype, np.integer):
            raise DataError(f"strata must be {y_train.shape} integers, one per training row; got {draw_on.dtype} {draw_on.shape}")
    else:
        y_train = draw_on = _check_labels(y_train, n_classes, "training")
    loss_kind = cfg.regression_loss if regression else None
    if crops is None and (n_rows(x_train) != len(y_train) or not n_rows(x_train)):
        raise DataError(f"training data: {n_rows(x_train)} inputs and {len(y_train)} labels; need equal, non-zero counts")
    has_val = x_val is not None and y_val is not None and n_rows(x_val) > 0
    if has_val:
        y_val = _check_values(y_val, "validation") if regression else _check_labels(y_val, n_classes, "validation")
    device = resolve_device(cfg.device)
    frozen = [name for name, _ in model.named_parameters() if name.startswith(tuple(freeze))]
    if freeze and not frozen:
        raise ConfigError(f"freeze prefixes {list(freeze)} match no parameter of {type(model).__name__}")
    params = [p for name, p in model.named_parameters() if name not in frozen]

    # With crops: one target row per class, indexed by each crop's label.
    soft_of = np.arange(n_classes) if crops is not None else y_train
    soft = y_train[:, None] if regression else soft_targets(soft_of, n_classes, cfg.label_mode, cfg.sigma)
    targets = torch.as_tensor(soft, dtype=torch.float32)
    default_steps = crops.steps_per_epoch(batch_size) if crops is not None else math.ceil(n_rows(x_train) / batch_size)
    steps = cfg.steps_per_epoch or default_steps
    rng = np.random.default_rng(seed)
    result = FitResult(device=device.type, steps_per_epoch=steps)
    best = BestTracker() if best is None else best
    this_fit, best.fits = best.fits, best.fits + 1
    stale = 0
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
                if crops is None:
                    rows = draw_batch(rng, draw_on, batch_size, cfg.balanced)
                    batch = take_rows(x_train, rows)
                else:
                    drawn = crops.draw(batch_size, cfg.balanced)
                    batch, rows = drawn.x, drawn.y
                xb = as_tensors(batch, device)
                loss = batch_loss(model(*xb), targets[rows].to(device), loss_kind)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if hasattr(model, "apply_constraints"):
                    model.apply_constraints()
                total += float(loss.detach())
            val_loss = evaluate_loss(model, x_val, y_val, device, regression_loss=loss_kind) if has_val else None
            result.history.append({"epoch": epoch, "lr": rate, "train_loss": total / steps, "val_loss": val_loss})
            if on_epoch is not None:
                on_epoch(epoch, val_loss)
            if not has_val:
                continue
            if val_loss < best.loss:
                best.loss, best.owner, stale, result.best_epoch = val_loss, this_fit, 0, epoch
                best.state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if cfg.patience is not None and stale >= cfg.patience:
                    break
    if has_val and best.state is not None and cfg.keep == "best":
        model.load_state_dict(best.state)
        result.restored_earlier_fit = best.owner != this_fit
    else:
        result.best_epoch = len(result.history) - 1
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def _rate_at(epoch: int, lr: float, lr_steps: dict[int, float]) -> float:
    """Learning rate of ``epoch``: the step with the largest start <= epoch, else ``lr``."""
    started = [e for e in lr_steps if e <= epoch]
    return lr_steps[max(started)] if started else lr


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
