"""The report folder: ``metrics.json``, ``run_info.json``, ``predictions.csv``, ``report.md`` and PNGs.

``metrics.json`` is nested ``target -> task -> protocol -> metric`` (e.g.
``metrics["valence"]["binary"]["subject_dependent_kfold"]["f1_weighted"]``) so
scripts can read it; everything about the run itself (config, timings,
preprocessing findings) goes to ``run_info.json``. Files are written to a
temporary name and renamed, so an interrupted run never leaves a truncated file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    """Atomically write ``data`` as indented JSON."""
    return write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_predictions(path: Path, predictions: pd.DataFrame) -> Path:
    """Atomically write the out-of-fold predictions as CSV."""
    return write_atomic(path, predictions.to_csv(index=False))


def render_markdown(metrics: dict, run_info: dict, figures: dict[str, str]) -> str:
    """The human-readable report: results table, what the data held, figures."""
    lines = [
        f"# biosig-affect report: {run_info['name']}",
        "",
        f"{run_info['n_subjects']} subjects, {run_info['n_windows']} windows of "
        f"{run_info['window_length_s']} s (hop {run_info['window_hop_s']} s), "
        f"{run_info['n_features']} features per window; baseline: {run_info['baseline_mode']}. "
        f"Classifier: standardised L2 logistic regression (C = {run_info['C']}).",
        "",
        "Scores are weighted F1 averaged over subjects (± standard deviation over subjects); "
        "chance is a stratified random guess under the same folds.",
        "",
        "| target | task | protocol | weighted F1 | balanced acc. | chance F1 |",
        "|---|---|---|---|---|---|",
    ]
    for target, tasks in metrics.items():
        for task, protocols in tasks.items():
            for protocol, s in protocols.items():
                lines.append(
                    f"| {target} | {task} | {protocol} | {s['f1_weighted']:.3f} ± {s['f1_weighted_std']:.3f} "
                    f"| {s['balanced_accuracy']:.3f} | {s['chance_f1_weighted']:.3f} |"
                )
    lines += [
        "",
        "Protocols: `subject_dependent_kfold` trains and tests within each subject with whole trials "
        "held out (no window of a test trial is seen in training); `loso` tests each subject with a "
        "model trained on all the others.",
        "",
        "## Preprocessing findings",
        "",
        "| subject | bad channels found | ICA components removed |",
        "|---|---|---|",
    ]
    for subject, found in run_info["preprocessing"].items():
        bads = ", ".join(f"{ch} ({why})" for ch, why in found["bad_channels"].items()) or "none"
        lines.append(f"| {subject} | {bads} | {found['ica_excluded'] or 'none'} |")
    lines += ["", "## Figures", ""]
    for title, filename in figures.items():
        lines += [f"### {title}", "", f"![{title}]({filename})", ""]
    lines += [
        "## Timings",
        "",
        *[f"- {step}: {seconds:.1f} s" for step, seconds in run_info["timings_s"].items()],
        "",
    ]
    return "\n".join(lines)
