"""The EEG teacher: DE scalp maps of an EEG cohort -> TopomapCNN regressing valence and arousal.

Data: :mod:`graphs.distill.teacher_data` (:func:`eeg_topomaps`, re-exported
here): DE scalp maps of the configured EEG cohort.

Split (:func:`holdout_trials`). Whole trials are held out, so no window of
a held-out trial is seen in training; the prototypes come from the held-out
windows (the paper uses the teacher's validation-set embeddings). About
``holdout_fraction`` of all trials are held out (rounded, at least one),
drawn first to cover as many valence x arousal cells as possible (one trial
of each cell, cells in random order) and then at random, never a subject's
last training trial. A purely random draw left the rare extreme cells (e.g.
valence 5, about 1 trial in 10 on the synthetic cohort) without held-out
windows, so their prototypes had to be filled from neighbours.

Training (:func:`train_teacher`). Inputs are standardised per band with the
training windows' mean and sd over the pixels inside the head (0 outside);
targets are the ratings mapped to ``[-1, 1]``; mean squared error, Adam with
weight decay, fixed epochs, shuffled mini-batches. This is a small loop of
its own: :func:`graphs.training.trainer.fit` trains classifiers with
soft-target cross-entropy over one label, and the teacher regresses two
continuous ratings. It reuses the trainer's safe checkpoints
(:func:`~graphs.training.trainer.save_checkpoint`: tensors + JSON, read back
with ``torch.load(weights_only=True)``). The teacher is small and trains on
the CPU.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from biosig.errors import ConfigError, DataError
from graphs.models import TopomapCNN, build_model

from .circumplex import GRID_LEVELS
from .config import TeacherConfig
from .prototypes import rating_levels
from .teacher_data import TARGETS, TopomapData, eeg_topomaps

__all__ = [
    "CHECKPOINT_KIND",
    "HASH_SCHEME",
    "Teacher",
    "TopomapData",
    "eeg_topomaps",
    "holdout_trials",
    "load_teacher",
    "rating_targets",
    "save_teacher",
    "teacher_config_hash",
    "teacher_metrics",
    "train_teacher",
]

CHECKPOINT_KIND = "distill_teacher"
#: Version of the data and split code, part of :func:`teacher_config_hash` (2: ``biosig run``'s source sections).
HASH_SCHEME = 2


def holdout_trials(meta: pd.DataFrame, fraction: float, scale: tuple[float, float], seed: int = 0) -> np.ndarray:
    """``(n_windows,)`` bool: windows of the held-out trials, covering the grid first (module docstring).

    Parameters
    ----------
    meta
        One row per window with ``subject``, ``trial``, ``valence``, ``arousal``.
    fraction
        Share of all trials held out.
    scale
        Rating scale, for the cells (:func:`graphs.distill.prototypes.rating_levels`).
    seed
        Seed of the draw.

    Raises
    ------
    DataError
        Windows of one trial with different ratings, or no subject with two trials.
    """
    trials = meta.groupby(["subject", "trial"], sort=True)[list(TARGETS)]
    if (trials.nunique() > 1).any(axis=None):
        raise DataError("teacher data: windows of one trial carry different ratings")
    first = trials.first()
    cells = rating_levels(first["valence"].to_numpy(), scale, name="valence") * GRID_LEVELS + rating_levels(
        first["arousal"].to_numpy(), scale, name="arousal"
    )
    subjects = first.index.get_level_values("subject").to_numpy()
    training_left = pd.Series(subjects).value_counts().to_dict()
    budget = max(int(round(fraction * len(first))), 1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(first))
    chosen = np.zeros(len(first), dtype=bool)

    def hold(unit: int) -> bool:
        if chosen[unit] or training_left[subjects[unit]] < 2:
            return False
        chosen[unit] = True
        training_left[subjects[unit]] -= 1
        return True

    for cell in rng.permutation(np.unique(cells)):
        if chosen.sum() >= budget:
            break
        next((u for u in order if cells[u] == cell and hold(u)), None)
    for unit in order:
        if chosen.sum() >= budget:
            break
        hold(unit)
    if not chosen.any():
        raise DataError("teacher data: no subject has two trials, so no trial can be held out for the prototypes")
    held_keys = set(first.index[chosen])
    return np.fromiter((key in held_keys for key in zip(meta["subject"], meta["trial"], strict=True)), bool, len(meta))


def teacher_config_hash(cfg: TeacherConfig) -> str:
    """SHA-256 of the teacher settings that determine its weights and split (the checkpoint path excluded).

    :data:`HASH_SCHEME` is hashed too: it changes when the data or split code
    changes, so an old checkpoint no longer passes as trained on the same split.
    """
    settings = {"scheme": HASH_SCHEME, "settings": cfg.model_dump(mode="json", exclude={"checkpoint"})}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


@dataclass
class Teacher:
    """A trained teacher with its input standardisation.

    Attributes
    ----------
    model
        TopomapCNN, 2 regression outputs (valence, arousal in ``[-1, 1]``).
    band_mean, band_sd
        ``(n_bands,)`` standardisation of the inputs (training windows, inside the head).
    mask
        ``(size, size)`` bool, pixels inside the head.
    scale
        Rating scale ``(low, high)``.
    config_hash
        :func:`teacher_config_hash` of the settings it was trained with.
    history
        Per epoch: ``epoch``, ``train_mse``.
    """

    model: TopomapCNN
    band_mean: np.ndarray
    band_sd: np.ndarray
    mask: np.ndarray
    scale: tuple[float, float]
    config_hash: str
    history: list[dict[str, float]] = field(default_factory=list)

    def standardise(self, images: np.ndarray) -> np.ndarray:
        """Model input ``(n, n_bands, size, size)`` float32 from scalp maps."""
        z = (images - self.band_mean[None, :, None, None]) / self.band_sd[None, :, None, None]
        return np.where(self.mask, z, 0.0).astype(np.float32)

    def _batches(self, images: np.ndarray, fn, batch_size: int = 1024) -> np.ndarray:
        device = next(self.model.parameters()).device
        self.model.eval()
        out = []
        with torch.no_grad():
            for lo in range(0, len(images), batch_size):
                x = torch.as_tensor(self.standardise(images[lo : lo + batch_size]), device=device)
                out.append(fn(x).cpu().numpy())
        return np.concatenate(out) if out else np.empty((0, 0), dtype=np.float32)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """Unit-norm embeddings ``(n, embed_dim)`` float32 of scalp maps ``(n, n_bands, size, size)``."""
        return self._batches(images, lambda x: self.model.embed(x, normalize=True))

    def predict_ratings(self, images: np.ndarray) -> np.ndarray:
        """Predicted ``(valence, arousal)`` ratings ``(n, 2)`` on the rating scale."""
        low, high = self.scale
        mid, half = (low + high) / 2, (high - low) / 2
        return self._batches(images, self.model).astype(np.float64) * half + mid


def rating_targets(meta: pd.DataFrame, scale: tuple[float, float]) -> np.ndarray:
    """Ratings ``(n, 2)`` (valence, arousal) mapped linearly from ``scale`` to ``[-1, 1]``, float32."""
    low, high = scale
    ratings = meta[list(TARGETS)].to_numpy(dtype=float)
    return ((ratings - (low + high) / 2) / ((high - low) / 2)).astype(np.float32)


def train_teacher(data: TopomapData, train_rows: np.ndarray, cfg: TeacherConfig) -> Teacher:
    """Train a TopomapCNN on ``data.images[train_rows]`` (module docstring); deterministic for a seed.

    Raises
    ------
    DataError
        No training window.
    """
    x_train = data.images[train_rows]
    if not len(x_train):
        raise DataError("teacher: no training window")
    inside = x_train[:, :, data.mask]  # (n, n_bands, n_inside)
    band_mean = inside.mean(axis=(0, 2))
    band_sd = inside.std(axis=(0, 2))
    band_sd = np.where(band_sd > 0, band_sd, 1.0)
    model = build_model(
        "topomap_cnn",
        seed=cfg.seed,
        n_bands=data.images.shape[1],
        image_size=data.images.shape[2],
        widths=cfg.widths,
        dropout=cfg.dropout,
        output="regression",
        n_outputs=2,
    )
    teacher = Teacher(model, band_mean, band_sd, data.mask, data.scale, teacher_config_hash(cfg))  # type: ignore[arg-type]
    x = teacher.standardise(x_train)
    y = rating_targets(data.meta[train_rows], data.scale)
    device = torch.device("cpu")
    rng = np.random.default_rng(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        for epoch in range(cfg.epochs):
            model.train()
            order = rng.permutation(len(x))
            total = 0.0
            for lo in range(0, len(order), cfg.batch_size):
                rows = order[lo : lo + cfg.batch_size]
                xb = torch.as_tensor(x[rows], device=device)
                loss = F.mse_loss(model(xb), torch.as_tensor(y[rows], device=device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(rows)
            teacher.history.append({"epoch": epoch, "train_mse": total / len(x)})
    model.eval()
    return teacher


def teacher_metrics(teacher: Teacher, data: TopomapData, rows: np.ndarray, train_rows: np.ndarray) -> dict[str, Any]:
    """Held-out regression per target: MAE (rating points), Pearson r, MAE of predicting the training mean."""
    pred = teacher.predict_ratings(data.images[rows])
    out: dict[str, Any] = {"n_windows": int(rows.sum()) if rows.dtype == bool else len(rows)}
    for k, target in enumerate(TARGETS):
        truth = data.meta.loc[rows, target].to_numpy(dtype=float)
        baseline = data.meta.loc[train_rows, target].to_numpy(dtype=float).mean()
        r = float(np.corrcoef(pred[:, k], truth)[0, 1]) if truth.std() > 0 and pred[:, k].std() > 0 else float("nan")
        out[target] = {
            "mae": float(np.abs(pred[:, k] - truth).mean()),
            "pearson_r": r,
            "mae_training_mean": float(np.abs(baseline - truth).mean()),
        }
    return out


def save_teacher(teacher: Teacher, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the teacher as a safe checkpoint (weights + JSON metadata)."""
    from graphs.training.trainer import save_checkpoint

    metadata = {
        "kind": CHECKPOINT_KIND,
        "model": "topomap_cnn",
        "hparams": teacher.model.config.model_dump(mode="json"),
        "band_mean": teacher.band_mean.tolist(),
        "band_sd": teacher.band_sd.tolist(),
        "mask": teacher.mask.astype(int).tolist(),
        "scale": list(teacher.scale),
        "config_hash": teacher.config_hash,
        "history": teacher.history,
        "saved_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(extra or {}),
    }
    return save_checkpoint(path, teacher.model, metadata)


def load_teacher(path: str | Path, expected_hash: str) -> Teacher:
    """Read a teacher checkpoint (``torch.load(weights_only=True)``) trained with the configured settings.

    Raises
    ------
    DataError
        Unreadable or foreign checkpoint, metadata or weights not matching.
    ConfigError
        The checkpoint was trained with other teacher settings (its held-out
        trials would not be the configured ones).
    """
    from graphs.training.trainer import load_checkpoint

    state, meta = load_checkpoint(path)
    if meta.get("kind") != CHECKPOINT_KIND or meta.get("model") != "topomap_cnn":
        raise DataError(f"checkpoint {path} is not a distillation teacher (kind {meta.get('kind')!r})")
    if meta.get("config_hash") != expected_hash:
        raise ConfigError(
            f"checkpoint {path} was trained with teacher settings {str(meta.get('config_hash'))[:12]}..., the config "
            f"gives {expected_hash[:12]}...: data, split or model settings differ; restore them or train again"
        )
    try:
        model = build_model("topomap_cnn", **meta["hparams"])
        model.load_state_dict(state)
        mask = np.asarray(meta["mask"], dtype=bool)
        band_mean = np.asarray(meta["band_mean"], dtype=float)
        band_sd = np.asarray(meta["band_sd"], dtype=float)
        scale = (float(meta["scale"][0]), float(meta["scale"][1]))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"checkpoint {path}: weights or metadata do not fit a TopomapCNN teacher: {exc}") from None
    model.eval()
    return Teacher(model, band_mean, band_sd, mask, scale, expected_hash, list(meta.get("history", [])))  # type: ignore[arg-type]
