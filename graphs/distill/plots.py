"""The ``biosig distill`` report's PNG figures.

``grid.png`` (held-out windows per valence x arousal cell, filled cells
hatched, class cells named; 2-D PCA of the prototypes the losses use),
``ablation.png`` (test macro-F1 per condition, mean ± SD over the seeds, and
each seed), ``curves.png`` (validation macro-F1 and training loss per epoch,
first seed), ``confusion.png`` (the last variant on the test set, summed over
the seeds) and ``faces.png`` (training faces per class).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from .circumplex import GRID_LEVELS  # noqa: E402
from .face_data import FaceSet  # noqa: E402
from .prototypes import PrototypeGrid  # noqa: E402


def plot_grid(
    grid: PrototypeGrid, prototypes: np.ndarray, class_cells: Mapping[str, Sequence[int]], path: Path
) -> Path:
    """Cell counts (valence on x, arousal on y) and a 2-D PCA of the unit prototypes ``(25, D)``."""
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.6))
    counts = grid.counts.T  # rows: arousal, columns: valence
    im = ax0.imshow(counts, origin="lower", cmap="viridis")
    for v in range(GRID_LEVELS):
        for a in range(GRID_LEVELS):
            if grid.filled[v, a]:
                ax0.add_patch(plt.Rectangle((v - 0.5, a - 0.5), 1, 1, fill=False, hatch="//", edgecolor="white", lw=0))
            text = "filled" if grid.filled[v, a] else str(grid.counts[v, a])
            ax0.text(v, a + 0.22, text, ha="center", va="center", color="white", fontsize=8)
    for name, (v, a) in class_cells.items():
        ax0.text(v, a - 0.18, name, ha="center", va="center", color="orange", fontsize=7, weight="bold")
    ax0.set(xticks=range(GRID_LEVELS), yticks=range(GRID_LEVELS), xlabel="valence level", ylabel="arousal level")
    ax0.set_title("held-out EEG windows per cell (hatched: filled from neighbours)", fontsize=9)
    fig.colorbar(im, ax=ax0, shrink=0.8, label="windows")
    xy = PCA(n_components=2).fit_transform(prototypes)
    levels = np.arange(GRID_LEVELS * GRID_LEVELS)
    val, aro = levels // GRID_LEVELS, levels % GRID_LEVELS
    observed = ~grid.filled.ravel()
    sc = ax1.scatter(
        xy[observed, 0],
        xy[observed, 1],
        c=val[observed],
        s=30 + 25 * aro[observed],
        cmap="coolwarm",
        vmin=0,
        vmax=GRID_LEVELS - 1,
        edgecolors="black",
    )
    ax1.scatter(
        xy[~observed, 0],
        xy[~observed, 1],
        facecolors="none",
        s=30 + 25 * aro[~observed],
        edgecolors=plt.cm.coolwarm(val[~observed] / (GRID_LEVELS - 1)),
        linewidths=1.5,
    )
    for i in levels:
        ax1.annotate(f"{val[i]},{aro[i]}", xy[i], fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax1.set(xlabel="PC 1", ylabel="PC 2")
    ax1.set_title("prototypes (centred, unit): colour valence, size arousal, hollow: filled", fontsize=9)
    fig.colorbar(sc, ax=ax1, shrink=0.8, label="valence level")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_ablation(conditions: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    """Macro-F1 per condition, mean ± SD over the seeds (bars), test and cross sets."""
    sets = [s for s in ("test", "cross") if all(s in r for r in conditions.values())]
    fig, axes = plt.subplots(1, len(sets), figsize=(6.5 * len(sets), 0.45 * len(conditions) + 1.6), squeeze=False)
    names = list(conditions)
    for ax, which in zip(axes[0], sets, strict=True):
        means = [conditions[n][which]["macro_f1"] for n in names]
        sds = [conditions[n][f"{which}_sd"]["macro_f1"] for n in names]
        colours = ["tab:orange" if "(" in n else "tab:blue" for n in names]
        ax.barh(np.arange(len(names)), means, xerr=sds, color=colours, capsize=3)
        ax.set_yticks(np.arange(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("macro-F1 (8-way), mean ± SD over seeds")
        ax.set_title(f"{which} set (orange: control grids)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(histories: Mapping[str, Sequence[Mapping[str, float]]], path: Path) -> Path:
    """Validation macro-F1 and training loss per epoch, one line per variant."""
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6))
    for variant, rows in histories.items():
        epochs = [r["epoch"] for r in rows]
        ax0.plot(epochs, [r["val_macro_f1"] for r in rows], label=variant)
        ax1.plot(epochs, [r["loss"] for r in rows], label=variant)
    ax0.set(xlabel="epoch", ylabel="validation macro-F1")
    ax1.set(xlabel="epoch", ylabel="training loss (weighted sum)")
    ax0.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(confusion: Sequence[Sequence[int]], classes: Sequence[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix (rows: true class)."""
    cm = np.asarray(confusion, dtype=float)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                f"{rates[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="black" if rates[i, j] < 0.6 else "white",
            )
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_faces(faces: FaceSet, path: Path, per_class: int = 8) -> Path:
    """A few faces of each class, one row per class."""
    fig, axes = plt.subplots(
        len(faces.classes), per_class, figsize=(per_class * 0.9, len(faces.classes) * 0.95), squeeze=False
    )
    for k, name in enumerate(faces.classes):
        rows = np.flatnonzero(faces.labels == k)[:per_class]
        for j in range(per_class):
            ax = axes[k, j]
            ax.axis("off")
            if j < len(rows):
                ax.imshow(faces.images[rows[j]], cmap="gray", vmin=0, vmax=255)
        axes[k, 0].set_title(name, fontsize=7, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
