"""PNG figures of the report: scalp contrasts, confusion matrices, per-subject scores.

The score figures read one model's part of ``metrics.json``
(``metrics[model]``: ``target -> task -> protocol -> metric``) as the feature
baseline writes it (:func:`biosig.evaluation.metrics.classification_scores`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mne
import numpy as np
import xarray as xr
from scipy import stats

from biosig.evaluation.statistics import holm
from biosig.report.labels import class_names, entry_classes, protocol_label, target_label, task_label


def contrast_t_values(features: xr.Dataset, target: str, threshold: float, variable: str = "de") -> xr.DataArray:
    """Paired t-value across subjects of ``variable`` in high (rating > threshold) minus low windows.

    Per subject the mean over high windows minus the mean over low windows is
    taken (subjects lacking either class are left out); the t-value is the
    mean of these differences over their standard error. Shape ``(channel, band)``.
    """
    diffs = []
    for _subject, sub in features.groupby("subject"):
        high = sub[target] > threshold
        if bool(high.all()) or not bool(high.any()):
            continue
        diffs.append(sub[variable].where(high).mean("window") - sub[variable].where(~high).mean("window"))
    if len(diffs) < 2:
        # No spread to divide by: the map is left blank (NaN) rather than failing the report.
        template = features[variable].isel(window=0, drop=True)
        return xr.full_like(template, np.nan, dtype=float).assign_attrs(n_subjects=len(diffs))
    stacked = xr.concat(diffs, dim="subject")
    n = stacked.sizes["subject"]
    sem = stacked.std("subject", ddof=1) / np.sqrt(n)
    return (stacked.mean("subject") / sem).assign_attrs(n_subjects=n)


def contrast_significance(
    tvals: xr.DataArray, alpha: float = 0.05, correction: Literal["holm", "fdr"] = "holm"
) -> xr.DataArray:
    """Where the paired contrast of :func:`contrast_t_values` is significant after correction, same shape, bool.

    Two-sided p-values of the t-values (``n_subjects - 1`` degrees of freedom)
    are corrected over every channel and band of the map together: Holm
    (family-wise error, :func:`biosig.evaluation.statistics.holm`) or
    Benjamini-Hochberg FDR; a cell is marked where the corrected p <= ``alpha``.
    A blank map (NaN t, fewer than two subjects) has no marked cell.
    """
    n = int(tvals.attrs.get("n_subjects", 0))
    t = tvals.values.astype(float)
    if n < 2:
        return xr.zeros_like(tvals, dtype=bool)
    p = 2 * stats.t.sf(np.abs(t), df=n - 1)
    flat = p.ravel()
    if correction == "holm":
        adjusted = holm(flat)
    else:
        adjusted = np.full(flat.shape, np.nan)
        finite = ~np.isnan(flat)
        if finite.any():
            adjusted[finite] = stats.false_discovery_control(flat[finite], method="bh")
    return tvals.copy(data=np.nan_to_num(adjusted.reshape(t.shape), nan=1.0) <= alpha)


def plot_contrast_topomaps(
    features: xr.Dataset,
    info: mne.Info,
    targets: list[str],
    threshold: float,
    path: Path,
    alpha: float = 0.05,
    correction: Literal["holm", "fdr"] = "holm",
) -> Path:
    """One row of scalp maps per target, one column per band, of :func:`contrast_t_values` of DE.

    Channel names are written on the maps; channels where the contrast is
    significant after ``correction`` (:func:`contrast_significance`) are marked
    with white dots.
    """
    bands = list(features["band"].values)
    fig, axes = plt.subplots(len(targets), len(bands), figsize=(2.9 * len(bands), 3.0 * len(targets)), squeeze=False)
    pick_info = mne.pick_info(info, mne.pick_channels(info.ch_names, list(features["channel"].values), ordered=True))
    mask_params = dict(marker="o", markerfacecolor="white", markeredgecolor="black", markersize=7)
    for row, target in enumerate(targets):
        tvals = contrast_t_values(features, target, threshold)
        significant = contrast_significance(tvals, alpha, correction)
        finite = np.abs(tvals.values[np.isfinite(tvals.values)])
        lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        for col, band in enumerate(bands):
            ax = axes[row, col]
            im, _ = mne.viz.plot_topomap(
                np.nan_to_num(tvals.sel(band=band).values), pick_info, axes=ax, show=False, cmap="RdBu_r", vlim=(-lim, lim),
                contours=0, names=pick_info.ch_names, mask=significant.sel(band=band).values, mask_params=mask_params,
            )
            for text in ax.texts:
                text.set_fontsize(6)
            ax.set_title(f"{target_label(target)}, {band}", fontsize=9)
        fig.colorbar(im, ax=axes[row, :].tolist(), shrink=0.8, label=f"t (high − low, n={tvals.attrs['n_subjects']})")
    method = "Holm" if correction == "holm" else "FDR (Benjamini-Hochberg)"
    fig.suptitle(
        f"Differential entropy, high (> {threshold:g}) vs low rating: paired t across subjects\n"
        f"white dots: p <= {alpha:g} after {method} correction over all channels and bands"
    )
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_confusion_matrices(metrics: dict, protocol: str, path: Path) -> Path:
    """Row-normalised pooled confusion matrices of one model (``metrics[model]``), one panel per target and task."""
    panels = [(t, k) for t in metrics for k in metrics[t] if protocol in metrics[t][k]]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.3), squeeze=False)
    for ax, (target, task) in zip(axes[0], panels):
        cm = metrics[target][task][protocol]["confusion_matrix"]
        mat = np.asarray(cm["matrix"], dtype=float)
        norm = mat / np.maximum(mat.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        ticks = range(len(cm["labels"]))
        classes = metrics[target][task][protocol].get("classes")
        if classes:
            names = class_names(task, cm["labels"], classes=classes)
        else:
            names = ["low", "high"] if task == "binary" else [str(v) for v in cm["labels"]]
        ax.set_xticks(ticks, names)
        ax.set_yticks(ticks, names)
        for i in ticks:
            for j in ticks:
                ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{target_label(target)}: {task_label(task, classes=classes)}", fontsize=9)
    fig.suptitle(f"Confusion matrices, {protocol_label(protocol)} (rows normalised)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_per_subject(metrics: dict, task: str, path: Path) -> Path:
    """Weighted F1 per subject of one model (``metrics[model]``) for each target and protocol, chance as a line."""
    targets = [t for t in metrics if task in metrics[t]]
    fig, axes = plt.subplots(1, len(targets), figsize=(5.5 * len(targets), 3.2), squeeze=False)
    for ax, target in zip(axes[0], targets):
        protocols = list(metrics[target][task])
        subjects = sorted(metrics[target][task][protocols[0]]["per_subject"])
        width = 0.8 / len(protocols)
        x = np.arange(len(subjects))
        for k, protocol in enumerate(protocols):
            scores = metrics[target][task][protocol]
            values = [scores["per_subject"].get(s, np.nan) for s in subjects]
            ax.bar(x + k * width, values, width, label=protocol_label(protocol))
            ax.axhline(scores["chance_f1_weighted"], color=f"C{k}", ls="--", lw=1)
        ax.set_xticks(x + width * (len(protocols) - 1) / 2, subjects, rotation=45, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("weighted F1")
        classes = entry_classes(metrics[target][task])
        ax.set_title(f"{target_label(target)}: {task_label(task, classes=classes)}; dashed: chance", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=len(protocols))
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # the legend sits below the axes
    plt.close(fig)
    return path
