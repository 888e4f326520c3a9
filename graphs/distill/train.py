"""Student training and the ablation variants (CE only, + KD, + Proto-KD, + D-Geo).

One loop (:func:`train_student`) serves every variant; a variant only
switches loss terms on (:data:`VARIANTS`), so with the same seed all
variants start from the same weights and see the same batches in the same
order with the same augmentations. Per epoch:

* learning rate ``lr * (1 + cos(π e / E)) / 2`` (cosine decay), AdamW;
* shuffled mini-batches; augmentation (``student.augment``): random
  horizontal flip and a random shift of up to ``max_shift`` px (edge pixels
  repeated);
* loss ``CE + w_kd KD + w_proto ProtoKD + G`` with D-Geo's ``G`` scale-free
  (exactly ``share * s(e)`` of each batch's loss) or ``w_geo s(e) DGeo``
  (:mod:`graphs.distill.losses`), CE with inverse-frequency class weights
  ``n / (K n_k)`` when ``class_weights`` (as the paper's CE has class weights);
* gradient norm clipped to ``clip_grad`` (1.0, the paper's);
* the EMA teacher of KD is updated after every step;
* model selection: the epoch with the best validation macro-F1 (the paper's
  criterion) is kept, ties to the earlier epoch.

Randomness: weights, batch order and augmentation from ``numpy.random.default_rng``
streams of the run's seed (``seed``, default ``student.seed``; the ablation
passes one per repeat); dropout from torch's generator seeded with it inside
:func:`torch.random.fork_rng` (the caller's RNG state is untouched).

History (one row per epoch): ``loss`` and each unweighted term (``ce``,
``kd``, ``proto``, ``dgeo``) averaged over the epoch's samples,
``dgeo_weighted`` (``G``, the term as it enters the loss) and
``dgeo_share`` (``dgeo_weighted / loss``: how much of the loss D-Geo is),
the validation accuracy and macro-F1.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .config import DistillConfig
from .evaluate import classification_metrics
from .face_data import FaceSet
from .losses import d_geo, label_smoothed_ce, late_cosine, logit_kd, proto_kd, share_weighted
from .students import Student, build_student


@dataclass(frozen=True)
class VariantSpec:
    """Loss terms a variant switches on besides CE."""

    kd: bool
    proto: bool
    dgeo: bool


#: The ablation, each variant adding one term to the previous one.
VARIANTS: dict[str, VariantSpec] = {
    "ce": VariantSpec(False, False, False),
    "ce+kd": VariantSpec(True, False, False),
    "ce+kd+proto": VariantSpec(True, True, False),
    "ce+kd+proto+dgeo": VariantSpec(True, True, True),
}


@dataclass(frozen=True)
class GridTargets:
    """What Proto-KD, D-Geo and the grid agreement need.

    Attributes
    ----------
    prototypes
        ``(25, D)`` float32 unit prototypes, row ``valence * 5 + arousal``.
    class_cell
        ``(n_classes,)`` int64 flat cell of each class.
    positive
        Class indices D-Geo contracts.
    """

    prototypes: np.ndarray
    class_cell: np.ndarray
    positive: tuple[int, ...]


@dataclass
class StudentRun:
    """A trained variant: the selected model and its training history."""

    variant: str
    model: Student
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


class EmaTeacher:
    """Exponential moving average of a student's weights (the logit-KD teacher), kept in eval mode.

    After each optimiser step ``θ_ema ← d θ_ema + (1 - d) θ``; BatchNorm
    running statistics are copied from the student.
    """

    def __init__(self, student: Student, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(student).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, student: Student) -> None:
        """Move the average towards the student's current weights."""
        for avg, cur in zip(self.model.parameters(), student.parameters(), strict=True):
            avg.mul_(self.decay).add_(cur.detach(), alpha=1.0 - self.decay)
        for avg, cur in zip(self.model.buffers(), student.buffers(), strict=True):
            avg.copy_(cur)

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher logits ``(n, n_classes)`` of a batch."""
        return self.model(x)


def class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Inverse-frequency weights ``n / (K_present n_k)`` ``(n_classes,)``; classes without samples get 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return weights


def augment(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Random horizontal flip and shift of faces ``(n, 48, 48)`` uint8 -> model input ``(n, 1, 48, 48)`` float32."""
    n, h, w = images.shape
    out = np.where(rng.random(n)[:, None, None] < 0.5, images[:, :, ::-1], images)
    if max_shift > 0:
        padded = np.pad(out, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)), mode="edge")
        dy = rng.integers(0, 2 * max_shift + 1, n)
        dx = rng.integers(0, 2 * max_shift + 1, n)
        rows = dy[:, None] + np.arange(h)[None, :]
        cols = dx[:, None] + np.arange(w)[None, :]
        out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out[:, None].astype(np.float32) / 255.0


def predict(model: Student, faces: FaceSet, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, K)`` and projections ``(n, D)`` of a face set (eval mode, no gradients)."""
    device = next(model.parameters()).device
    model.eval()
    x = faces.tensor_input()
    logits, proj = [], []
    with torch.no_grad():
        for lo in range(0, len(x), batch_size):
            out = model.outputs(torch.as_tensor(x[lo : lo + batch_size], device=device))
            logits.append(out.logits.cpu().numpy())
            proj.append(out.projection.cpu().numpy())
    return np.concatenate(logits), np.concatenate(proj)


def train_student(
    variant: str,
    train: FaceSet,
    val: FaceSet,
    grid: GridTargets,
    cfg: DistillConfig,
    *,
    seed: int | None = None,
    on_epoch=None,
) -> StudentRun:
    """Train one variant (module docstring) and return it with the best validation epoch's weights.

    Parameters
    ----------
    variant
        A key of :data:`VARIANTS`.
    train, val
        Training and model-selection faces.
    grid
        Prototypes and class cells.
    cfg
        The run's configuration (``student`` and ``losses`` sections).
    seed
        Seed of the run (module docstring); None: ``student.seed``.
    on_epoch
        Called with each epoch's history row (progress display).
    """
    from graphs.training.trainer import resolve_device

    spec = VARIANTS[variant]
    scfg, lcfg = cfg.student, cfg.losses
    seed = scfg.seed if seed is None else seed
    n_classes = len(train.classes)
    device = resolve_device(scfg.device)
    model = build_student(
        scfg.arch,
        n_classes,
        grid.prototypes.shape[1],
        widths=scfg.widths,
        base_width=scfg.base_width,
        dropout=scfg.dropout,
        seed=seed,
    ).to(device)
    weight = torch.as_tensor(class_weights(train.labels, n_classes), dtype=torch.float32, device=device)
    prototypes = torch.as_tensor(grid.prototypes, device=device)
    class_cell = torch.as_tensor(grid.class_cell, device=device)
    labels_all = torch.as_tensor(train.labels, device=device)
    order_rng, augment_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    run = StudentRun(variant, model)
    best_score, best_state = -math.inf, None
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=scfg.lr, weight_decay=scfg.weight_decay)
        ema = EmaTeacher(model, lcfg.kd.ema_decay) if spec.kd else None
        for epoch in range(scfg.epochs):
            lr = scfg.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / scfg.epochs))
            for group in optimizer.param_groups:
                group["lr"] = lr
            geo_scale = late_cosine(epoch, scfg.epochs, lcfg.d_geo.start_epoch, lcfg.d_geo.end_epoch)
            sums = {"loss": 0.0, "ce": 0.0, "kd": 0.0, "proto": 0.0, "dgeo": 0.0, "dgeo_weighted": 0.0}
            model.train()
            order = order_rng.permutation(len(train))
            for lo in range(0, len(order), scfg.batch_size):
                rows = order[lo : lo + scfg.batch_size]
                if scfg.augment:
                    xb = augment(train.images[rows], augment_rng, scfg.max_shift)
                else:
                    xb = train.subset(rows).tensor_input()
                x = torch.as_tensor(xb, device=device)
                y = labels_all[rows]
                out = model.outputs(x)
                terms = {
                    "ce": label_smoothed_ce(out.logits, y, lcfg.label_smoothing, weight if scfg.class_weights else None)
                }
                loss = terms["ce"]
                if ema is not None:
                    terms["kd"] = logit_kd(out.logits, ema.logits(x))
                    loss = loss + lcfg.kd.weight * terms["kd"]
                if spec.proto:
                    terms["proto"] = proto_kd(
                        out.projection, class_cell[y], prototypes, lcfg.proto_kd.tau, lcfg.proto_kd.temperature
                    )
                    loss = loss + lcfg.proto_kd.weight * terms["proto"]
                if spec.dgeo:
                    terms["dgeo"] = d_geo(out.projection, y, grid.positive, lcfg.d_geo.hard_gate)
                    if lcfg.d_geo.share is None:
                        terms["dgeo_weighted"] = lcfg.d_geo.weight * geo_scale * terms["dgeo"]
                    else:
                        terms["dgeo_weighted"] = share_weighted(terms["dgeo"], loss, lcfg.d_geo.share * geo_scale)
                    loss = loss + terms["dgeo_weighted"]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if scfg.clip_grad is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), scfg.clip_grad)
                optimizer.step()
                if ema is not None:
                    ema.update(model)
                sums["loss"] += float(loss.detach()) * len(rows)
                for name, value in terms.items():
                    sums[name] += float(value.detach()) * len(rows)
            logits, _ = predict(model, val)
            val_metrics = classification_metrics(val.labels, logits.argmax(axis=1), n_classes)
            row = {
                "epoch": epoch,
                "lr": lr,
                "dgeo_scale": geo_scale if spec.dgeo else 0.0,
                **{k: v / len(train) for k, v in sums.items()},
                "dgeo_share": sums["dgeo_weighted"] / sums["loss"] if sums["loss"] > 0 else 0.0,
                "val_accuracy": val_metrics["accuracy"],
                "val_macro_f1": val_metrics["macro_f1"],
            }
            run.history.append(row)
            if on_epoch is not None:
                on_epoch(row)
            if val_metrics["macro_f1"] > best_score:
                best_score, run.best_epoch = val_metrics["macro_f1"], epoch
                best_state = copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    run.seconds = time.perf_counter() - start
    return run
