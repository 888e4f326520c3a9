"""The ``biosig distill`` report: PNG figures, ``metrics.json`` and ``report.md``.

Figures: ``grid.png`` (held-out windows per valence x arousal cell, filled
cells hatched, class cells named; 2-D PCA of the prototypes the losses use),
``ablation.png`` (test metrics per variant), ``curves.png`` (validation
macro-F1 and training loss per epoch), ``confusion.png`` (the last variant
on the test set) and ``faces.png`` (training faces per class).
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

from biosig.report.writer import write_atomic, write_json  # noqa: E402

from .circumplex import GRID_LEVELS  # noqa: E402
from .face_data import FaceSet  # noqa: E402
from .prototypes import PrototypeGrid  # noqa: E402

METRICS = ("accuracy", "macro_f1", "balanced_accuracy", "present_macro_f1")
AGREEMENT = ("cell_accuracy", "within_one", "valence_mae_levels", "arousal_mae_levels")


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


def plot_ablation(results: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    """Grouped bars: test (and cross-set) metrics per variant."""
    sets = [s for s in ("test", "cross") if all(s in r for r in results.values())]
    fig, axes = plt.subplots(1, len(sets), figsize=(6.5 * len(sets), 3.8), squeeze=False)
    width = 0.8 / len(results)
    for ax, which in zip(axes[0], sets, strict=True):
        for i, (variant, res) in enumerate(results.items()):
            values = [res[which][m] for m in METRICS]
            ax.bar(np.arange(len(METRICS)) + i * width, values, width, label=variant)
        ax.set_xticks(
            np.arange(len(METRICS)) + width * (len(results) - 1) / 2, [m.replace("_", " ") for m in METRICS], fontsize=8
        )
        ax.set_ylim(0, 1)
        ax.set_title(f"{which} set", fontsize=10)
    axes[0, 0].legend(fontsize=7, loc="lower left")
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


def _row(values: Sequence[Any]) -> str:
    return "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values) + " |"


def render_markdown(summary: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    """``report.md`` from the run summary (the content of ``metrics.json``)."""
    lines = [f"# biosig distill report: {summary['name']}", ""]
    teacher = summary.get("teacher")
    if teacher:
        held = teacher["heldout"]
        lines += [
            "## EEG teacher",
            "",
            f"TopomapCNN on DE scalp maps ({teacher['n_bands']} bands, "
            f"{teacher['image_size']}x{teacher['image_size']} px) "
            f"of {teacher['dataset']['kind']} EEG, {teacher['dataset']['n_subjects']} subjects, "
            f"{teacher['n_train_windows']} training and {held['n_windows']} held-out windows (whole trials held out); "
            f"{teacher['source']}. Held-out regression:",
            "",
            "| target | MAE (rating points) | Pearson r | MAE of the training mean |",
            "|---|---|---|---|",
        ]
        for target in ("valence", "arousal"):
            m = held[target]
            lines.append(_row([target, m["mae"], m["pearson_r"], m["mae_training_mean"]]))
        lines.append("")
    grid = summary["grid"]
    lines += [
        "## Prototype grid",
        "",
        f"Artefact `{grid['npz']}` + `{grid['json']}` (format {grid['format_version']}, teacher config hash "
        f"`{str(grid['teacher_config_hash'])[:16]}`). Held-out windows per cell (rows: valence level 0-4, "
        "columns: arousal level 0-4; `f` = empty, filled from neighbours):",
        "",
        "| valence \\ arousal | 0 | 1 | 2 | 3 | 4 |",
        "|---|---|---|---|---|---|",
    ]
    for v in range(GRID_LEVELS):
        cells = [f"{c}" if not f else "f" for c, f in zip(grid["counts"][v], grid["filled"][v], strict=True)]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    filled_classes = grid.get("classes_on_filled_cells", [])
    if filled_classes:
        lines += [
            "",
            "Classes whose cell has no held-out window (their prototype is interpolated): "
            f"{', '.join(filled_classes)}.",
        ]
    lines += ["", f"![grid]({figures['grid']})", ""]
    faces = summary["faces"]
    lines += [
        "## Students",
        "",
        f"{summary['student']['arch']} ({summary['student']['parameters']:,} parameters with the projection head), "
        f"{summary['student']['epochs']} epochs, trained on {faces['train']['source']} "
        f"({faces['train']['n']} faces), model selection on validation macro-F1 ({faces['val']['n']} faces), "
        f"tested on {faces['test']['n']} faces. One seed ({summary['student']['seed']}): differences of a few points "
        "between variants are within seed-to-seed variation unless repeated.",
        "",
        "| variant | accuracy | macro-F1 (8-way) | balanced acc. | present-only macro-F1 | best epoch | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, res in summary["variants"].items():
        t = res["test"]
        row = [variant, t["accuracy"], t["macro_f1"], t["balanced_accuracy"], t["present_macro_f1"], res["best_epoch"]]
        lines.append(_row([*row, f"{res['seconds']:.0f}"]))
    if any("cross" in r for r in summary["variants"].values()):
        cross = summary["cross"]
        lines += [
            "",
            f"Cross-dataset test on {cross['source']} ({cross['n']} faces, "
            f"classes present: {', '.join(cross['present'])}):",
            "",
            "| variant | accuracy | macro-F1 (8-way) | balanced acc. | present-only macro-F1 |",
            "|---|---|---|---|---|",
        ]
        for variant, res in summary["variants"].items():
            c = res["cross"]
            lines.append(_row([variant, c["accuracy"], c["macro_f1"], c["balanced_accuracy"], c["present_macro_f1"]]))
    lines += [
        "",
        "Agreement of the student's projected embedding with the grid (test faces: nearest prototype vs the class's "
        "circumplex cell; a random cell gives 0.04 exact). Variants without Proto-KD never train the projection head, "
        "so their numbers are a chance reference:",
        "",
        "| variant | exact cell | within one level | valence MAE (levels) | arousal MAE (levels) |",
        "|---|---|---|---|---|",
    ]
    for variant, res in summary["variants"].items():
        g = res["grid_agreement"]
        lines.append(_row([variant, *(g[k] for k in AGREEMENT)]))
    lines += [
        "",
        f"![ablation]({figures['ablation']})",
        "",
        f"![curves]({figures['curves']})",
        "",
        f"![confusion]({figures['confusion']})",
        "",
        f"![faces]({figures['faces']})",
        "",
    ]
    onnx = summary.get("onnx")
    if onnx:
        lines += [
            "## ONNX",
            "",
            f"`{onnx['path']}` ({onnx['variant']}): input `faces` (batch, 1, 48, 48) float32 in [0, 1], output "
            f"`logits` (batch, {len(summary['classes'])}). Largest |ONNX Runtime - torch| logit difference on "
            f"{onnx['n_checked']} test faces: {onnx['max_abs_diff']:.2e}.",
            "",
        ]
    lines += [
        "## Definitions",
        "",
        "Loss formulas, the EMA teacher of logit KD, the D-Geo schedule: `graphs/distill/losses.py`; binning and "
        "filling: `graphs/distill/prototypes.py`; class cells: `graphs/distill/circumplex.py`; metrics: "
        "`graphs/distill/evaluate.py`. The paper's own formulas are not public; these are ours.",
        "",
    ]
    return "\n".join(lines)


def write_report(out_dir: Path, summary: Mapping[str, Any], figures: Mapping[str, str]) -> Path:
    """Write ``metrics.json`` and ``report.md`` into ``out_dir``; returns the markdown path."""
    write_json(out_dir / "metrics.json", summary)
    return write_atomic(out_dir / "report.md", render_markdown(summary, figures))
