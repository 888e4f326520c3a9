"""The ``biosig distill`` report: ``metrics.json`` and ``report.md`` (figures: :mod:`graphs.distill.plots`).

``report.md`` has the EEG teacher, the prototype grid, how the synthetic
faces express their classes (and whether that follows the grid by
construction), the ablation as mean ± SD over the seeds for every variant
and control grid, the paired comparisons over seeds, D-Geo's share of the
loss at the end of training, and a plain-words result line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from biosig.report.writer import write_atomic, write_json

from .circumplex import GRID_LEVELS

METRICS = ("accuracy", "macro_f1", "balanced_accuracy", "present_macro_f1")
AGREEMENT = ("cell_accuracy", "within_one", "valence_mae_levels", "arousal_mae_levels")


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
    lines += _face_lines(summary)
    lines += _ablation_lines(summary)
    for name in ("ablation", "curves", "confusion", "faces"):
        lines += [f"![{name}]({figures[name]})", ""]
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


def _mean_sd(means: Mapping[str, float], sds: Mapping[str, float], key: str) -> str:
    return f"{means[key]:.3f} ± {sds[key]:.3f}"


def _face_lines(summary: Mapping[str, Any]) -> list[str]:
    """The face set, its expression model and the circularity statement."""
    faces, expr = summary["faces"], summary["face_expression"]
    lines = [
        "## Faces and the circularity of synthetic faces",
        "",
        f"Trained on {faces['train']['source']} ({faces['train']['n']} faces), model selection on validation "
        f"macro-F1 ({faces['val']['n']} faces), tested on {faces['test']['n']} faces.",
        "",
    ]
    if expr["model"] == "circumplex":
        lines.append(
            "**Circular by construction.** These faces are drawn from the same circumplex table that puts each class "
            "on its prototype cell (`faces.expression.model: circumplex`): a class's smile, mouth and eye opening and "
            "brows follow its cell's valence and arousal, so the grid's geometry matches the faces' whatever the "
            f"EEG says (correlation of class distances on the grid and in the faces: r = {expr['geometry_r']:.2f}). "
            "A gain from grid-shaped targets on these faces does not show that the EEG matters."
        )
    elif expr["model"] == "independent":
        lines.append(
            "**Independent expressions.** Each class's five expression parameters (smile, mouth opening, eye opening, "
            f"brow raise, brow frown) are drawn from their own seeded table (seed {expr['seed']}, "
            "`graphs/distill/faces.py`), not from the circumplex table that places the classes on the grid, so the "
            "grid's geometry does not match the faces by construction (correlation of class distances on the grid "
            f"and in the faces: r = {expr['geometry_r']:.2f}; 1.00 for the circumplex face model). The classes are "
            "still placed on the grid by the circumplex table, which is a choice of ours, not a measurement; and "
            "the synthetic EEG cohort is itself simulated, so nothing here is evidence about real brains or faces."
        )
    else:
        lines.append("Real face images: their expressions do not come from the circumplex table.")
    return [*lines, ""]


def _ablation_lines(summary: Mapping[str, Any]) -> list[str]:
    """Variants and controls over the seeds, comparisons, D-Geo share and the result line."""
    abl, student = summary["ablation"], summary["student"]
    conditions = abl["conditions"]
    n = len(abl["seeds"])
    lines = [
        "## Students: ablation over seeds",
        "",
        f"{student['arch']} ({student['parameters']:,} parameters with the projection head), {student['epochs']} "
        f"epochs, seeds {abl['seeds']} (each seed sets the student's weights, batches and augmentation and the "
        "control's randomness; the EEG teacher is trained once). Rows without a control in parentheses use the EEG "
        "teacher's grid; "
        f"`{abl['reference']} (control)` rows train the same variant on a control grid: `random_teacher` (the "
        "teacher's architecture untrained, same held-out windows), `shuffled_cells` (the EEG prototypes permuted "
        "among the cells) and `circumplex` (pure grid geometry, no EEG); definitions in `graphs/distill/controls.py`. "
        f"Test set, mean ± SD over {n} seeds:",
        "",
        "| condition | accuracy | macro-F1 (8-way) | balanced acc. | present-only macro-F1 | D-Geo share of loss "
        "(last epoch) | time (s, all seeds) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in conditions.items():
        share = f"{100 * c['dgeo_share']:.2f}% ± {100 * c['dgeo_share_sd']:.2f}" if c["dgeo_share"] else "-"
        cells = [_mean_sd(c["test"], c["test_sd"], k) for k in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {share} | {c['seconds']:.0f} |")
    if "cross" in summary:
        cross = summary["cross"]
        lines += [
            "",
            f"Cross-dataset test on {cross['source']} ({cross['n']} faces, classes present: "
            f"{', '.join(cross['present'])}), mean ± SD over seeds:",
            "",
            "| condition | accuracy | macro-F1 (8-way) | balanced acc. | present-only macro-F1 |",
            "|---|---|---|---|---|",
        ]
        for name, c in conditions.items():
            lines.append(f"| {name} | " + " | ".join(_mean_sd(c["cross"], c["cross_sd"], k) for k in METRICS) + " |")
    lines += [
        "",
        "Agreement of the student's projected embedding with the grid it was trained on (test faces: nearest prototype "
        "vs the class's circumplex cell; a random cell gives 0.04 exact; variants without Proto-KD never train the "
        "projection head, so theirs is a chance reference), mean over seeds:",
        "",
        "| condition | exact cell | within one level | valence MAE (levels) | arousal MAE (levels) |",
        "|---|---|---|---|---|",
    ]
    for name, c in conditions.items():
        lines.append(_row([name, *(c["grid_agreement"][k] for k in AGREEMENT)]))
    lines += [
        "",
        "### Paired comparisons over seeds",
        "",
        f"`{abl['reference']}` with the EEG grid against each control and the brain-free reference: Wilcoxon "
        f"signed-rank over the {n} seeds (the unit is a repeated training run, not a subject; "
        "`biosig.evaluation.statistics.paired_comparisons`), Holm-corrected within each metric. With "
        f"{n} seeds the smallest possible two-sided p is {2 / 2**n:.3f}.",
        "",
        "| metric | against | mean difference (EEG - other) | seeds EEG higher | W | p | Holm p |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in abl["comparisons"]:
        lines.append(
            f"| {c['metric']} | {c['b']} | {c['mean_difference']:+.3f} | {c['wins']}/{c['n_seeds']} | "
            f"{c['statistic']:.1f} | {c['p_value']:.3f} | {c['p_holm']:.3f} |"
        )
    shares = [c["dgeo_share"] for c in conditions.values() if c["dgeo_share"]]
    if shares:
        lines += [
            "",
            f"D-Geo ({_dgeo_setting(summary)}) is {100 * min(shares):.2f}% to "
            f"{100 * max(shares):.2f}% of the training loss in the last epoch (mean over seeds per condition).",
        ]
    return [*lines, "", f"**Result.** {abl['result']}", ""]


def _dgeo_setting(summary: Mapping[str, Any]) -> str:
    """How D-Geo was weighted: the scale-free share (schedule factor included in the row) or the absolute weight."""
    d_geo = summary.get("config", {}).get("losses", {}).get("d_geo", {})
    if d_geo.get("share") is not None:
        return (
            f"scale-free: rescaled every batch to {100 * d_geo['share']:g}% of the loss times the schedule factor, "
            "the same for every grid; `graphs/distill/losses.py`"
        )
    return f"weight {summary['losses']['d_geo_weight']:g}"


def write_report(out_dir: Path, summary: Mapping[str, Any], figures: Mapping[str, str]) -> Path:
    """Write ``metrics.json`` and ``report.md`` into ``out_dir``; returns the markdown path."""
    write_json(out_dir / "metrics.json", summary)
    return write_atomic(out_dir / "report.md", render_markdown(summary, figures))
