"""Score figures of the HTML report: per-subject scores with error bars and chance, confusion counts.

Both read one model's part of ``metrics.json`` (``target -> task -> protocol ->
entry``): an entry's ``"statistics"``
(per-subject scores, their SD across folds, the chance level and the
permutation null's 95th percentile) when present, else the older keys
(``per_subject``, ``chance_f1_weighted``). Titles and legends are in words
(:mod:`biosig.report.labels`); a subject without a score (NaN) gets no bar and
the word "missing", never a bar at 0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from biosig.report.labels import (
    class_axis_label,
    class_names,
    entry_title,
    metric_label,
    model_label,
    protocol_label,
    target_label,
    task_label,
)

#: Scores bounded to [0, 1], drawn on that axis.
UNIT_SCORES = {"f1_weighted", "accuracy", "balanced_accuracy", "top2_accuracy", "seq2hr", "tri_p"}


def _number(value: Any) -> float:
    """``value`` as a float, NaN for ``None`` (JSON's missing value)."""
    return math.nan if value is None else float(value)


def entry_metric(entry: dict) -> str:
    """The score an entry's statistics are about: its ``statistics.metric``, else weighted F1 or CCC."""
    if "statistics" in entry:
        return entry["statistics"]["metric"]
    return "f1_weighted" if "f1_weighted" in entry else "ccc"


def subject_scores(entry: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Per-subject score and SD across folds of one entry (SD NaN where unknown), by subject."""
    stats = entry.get("statistics")
    if stats is not None:
        scores = {s: _number(v) for s, v in stats.get("per_subject", {}).items()}
        sds = {s: _number(stats.get("per_subject_sd", {}).get(s)) for s in scores}
        return scores, sds
    scores = {s: _number(v) for s, v in entry.get("per_subject", {}).items()}
    return scores, {s: math.nan for s in scores}


def chance_band(entry: dict) -> tuple[float, float]:
    """The chance level and the top of the chance band (the null's 95th percentile; the level without permutations)."""
    stats = entry.get("statistics")
    if stats is not None:
        chance = stats.get("chance", {})
        level = _number(chance.get("level"))
        top = _number(chance.get("null_p95"))
        return level, top if math.isfinite(top) else level
    level = _number(entry.get("chance_f1_weighted"))
    return level, level


def plot_subject_scores(by_target: dict, model: str, task: str, path: Path, threshold: float = 3.0) -> Path:
    """Save :func:`subject_scores_figure` as a PNG at ``path``."""
    fig = subject_scores_figure(by_target, model, task, threshold)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def subject_scores_figure(by_target: dict, model: str, task: str, threshold: float = 3.0) -> plt.Figure:
    """Per-subject scores of one model and task: a panel per target, a bar per subject and protocol.

    Error bars: SD across the subject's folds. Dashed line: chance level of
    that protocol; shaded band: chance level up to the permutation null's 95th
    percentile (only where permutations ran). NaN scores: no bar, "missing".
    """
    targets = [t for t in by_target if task in by_target[t]]
    fig, axes = plt.subplots(len(targets), 1, figsize=(8.5, 3.4 * len(targets)), squeeze=False)
    for ax, target in zip(axes[:, 0], targets):
        protocols = list(by_target[target][task])
        entries = [by_target[target][task][p] for p in protocols]
        subjects = sorted({s for e in entries for s in subject_scores(e)[0]})
        metric = entry_metric(entries[0])
        width = 0.8 / len(protocols)
        x = np.arange(len(subjects))
        bottom = 0.0 if metric in UNIT_SCORES else -1.0
        handles = []
        for k, (protocol, entry) in enumerate(zip(protocols, entries)):
            scores, sds = subject_scores(entry)
            values = np.array([scores.get(s, math.nan) for s in subjects])
            errors = np.array([sds.get(s, math.nan) for s in subjects])
            xs = x + (k - (len(protocols) - 1) / 2) * width
            ok = np.isfinite(values)
            color = f"C{k}"
            ax.bar(xs[ok], values[ok], width, color=color)
            has_sd = ok & np.isfinite(errors)
            ax.errorbar(xs[has_sd], values[has_sd], yerr=errors[has_sd], fmt="none", ecolor="black", capsize=2, lw=0.8)
            for xm in xs[~ok]:
                ax.text(xm, bottom + 0.02, "missing", rotation=90, ha="center", va="bottom", fontsize=7, color="0.35")
            level, top = chance_band(entry)
            if math.isfinite(level):
                ax.axhline(level, color=color, ls="--", lw=1)
                if top > level:
                    ax.axhspan(level, top, color=color, alpha=0.12, lw=0)
            handles.append(Patch(color=color, label=protocol_label(protocol)))
        handles.append(Line2D([], [], color="0.3", ls="--", label="chance level"))
        if any(chance_band(e)[1] > chance_band(e)[0] for e in entries):
            handles.append(Patch(color="0.3", alpha=0.2, label="up to the chance 95th percentile (permutations)"))
        if any(math.isfinite(v) for e in entries for v in subject_scores(e)[1].values()):
            handles.append(Line2D([], [], color="black", marker="|", ls="none", label="SD across folds"))
        ax.set_xticks(x, subjects, rotation=45, fontsize=8)
        if metric in UNIT_SCORES:
            ax.set_ylim(0, 1)
        ax.set_ylabel(metric_label(metric))
        words = task_label(task, threshold, entries[0].get("classes"))
        ax.set_title(f"{target_label(target)}, {words}: {metric_label(metric)} per subject")
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=7, frameon=False)
    fig.suptitle(model_label(model))
    fig.tight_layout()
    return fig


def confusion_counts(entry: dict) -> tuple[list[int], np.ndarray] | None:
    """``(labels, counts)`` of an entry's pooled confusion matrix, or None without one.

    Accepts both layouts: ``{"labels": [...], "matrix": [[...]]}`` (feature
    models) and a bare matrix (deep models, classes ``0..n-1``).
    """
    cm = entry.get("confusion_matrix")
    if cm is None:
        return None
    if isinstance(cm, dict):
        return [int(v) for v in cm["labels"]], np.asarray(cm["matrix"], dtype=float)
    matrix = np.asarray(cm, dtype=float)
    return list(range(matrix.shape[0])), matrix


def plot_confusion_counts(by_target: dict, model: str, protocol: str, path: Path, threshold: float = 3.0) -> Path | None:
    """Pooled confusion matrices of one model and protocol, a panel per target and task, or None when there are none.

    Cells show the window counts and the share of their true row; the colour is
    that share. Classes are named in words (:func:`biosig.report.labels.class_names`).
    """
    panels = [
        (target, task, counts)
        for target in by_target
        for task in by_target[target]
        if protocol in by_target[target][task]
        and (counts := confusion_counts(by_target[target][task][protocol])) is not None
    ]
    if not panels:
        return None
    ncols = min(2, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4.3 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (target, task, (labels, mat)) in zip(axes.flat, panels):
        share = mat / np.maximum(mat.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        ticks = range(len(labels))
        classes = by_target[target][task][protocol].get("classes")
        names = class_names(task, labels, threshold, classes)
        ax.set_xticks(ticks, names, fontsize=8)
        ax.set_yticks(ticks, names, fontsize=8)
        for i in ticks:
            for j in ticks:
                ax.text(j, i, f"{int(mat[i, j])}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=7.5,
                        color="white" if share[i, j] > 0.5 else "black")
        ax.set_xlabel(f"predicted {class_axis_label(task, target, classes)}", fontsize=8)
        ax.set_ylabel(f"true {class_axis_label(task, target, classes)}", fontsize=8)
        ax.set_title(entry_title(target, task, threshold=threshold, classes=classes), fontsize=9)
    fig.suptitle(f"{model_label(model)}, {protocol_label(protocol)}: window counts (colour: share of the true row)")
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
