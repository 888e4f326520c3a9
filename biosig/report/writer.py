"""The report folder: ``metrics.json``, ``run_info.json``, ``predictions.csv``, ``report.md`` and PNGs.

``metrics.json`` is nested ``model -> target -> task -> protocol -> metric`` (e.g.
``metrics["logreg"]["valence"]["binary"]["within_subject"]["f1_weighted"]``) for every command, so
scripts can read it; everything about the run itself (config, timings,
preprocessing findings) goes to ``run_info.json``. Files are written to a
temporary name and renamed, so an interrupted run never leaves a truncated file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from biosig.report.data_notes import data_notes_markdown
from biosig.report.labels import model_label, protocol_label, target_label, task_label


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    The file gets the user's normal permissions (``0o666`` less the umask), like
    the figures beside it, not the owner-only ``0o600`` of :func:`tempfile.mkstemp`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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
    """The human-readable report: one results table over every model, what the data held, figures.

    The data section (:func:`~biosig.report.data_notes.data_notes_markdown`) lists
    skipped subjects, EEG channels dropped, asymmetry notes and NaN features.

    ``metrics`` is ``model -> target -> task -> protocol -> metric``; a score a
    model does not report (e.g. F1 of a regression) shows as "-".
    """
    lines = [f"# biosig-affect report: {run_info['name']}", ""]
    if "n_windows" in run_info:
        C = ", ".join(f"{model}: C = {c}" for model, c in run_info["C"].items())
        lines += [
            f"Feature baseline: {run_info['n_subjects']} subjects, {run_info['n_windows']} windows of "
            f"{run_info['window_length_s']} s (hop {run_info['window_hop_s']} s), "
            f"{run_info['n_features']} features per window; baseline: {run_info['baseline_mode']}. "
            f"Classifier: standardised L2 logistic regression ({C}).",
            "",
        ]
    for group in run_info.get("deep_models", []):
        lines += [
            f"Deep models {', '.join(group['models'])}: {group['n_subjects']} subjects, {group['n_windows']} windows "
            f"of {group['windows']['length']} s (hop {group['windows']['hop']} s).",
            "",
        ]
    lines += [
        "Scores are averaged over subjects (± standard deviation over subjects); "
        "chance is a stratified random guess (regression: the training mean) under the same folds.",
        "",
        "| model | target | task | protocol | weighted F1 | balanced acc. | ROC AUC | chance F1 | CCC | RMSE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if not any(protocols for by_target in metrics.values() for tasks in by_target.values() for protocols in tasks.values()):
        lines[-2:] = ["No model produced a score: every target, task and protocol was skipped (the notes below say why)."]
    threshold = float(run_info.get("config", {}).get("evaluation", {}).get("threshold", 3.0))
    for model, by_target in metrics.items():
        for target, tasks in by_target.items():
            for task, protocols in tasks.items():
                for protocol, s in protocols.items():
                    f1 = f"{s['f1_weighted']:.3f} ± {s['f1_weighted_std']:.3f}" if "f1_weighted" in s else "-"
                    rest = " | ".join(
                        f"{s[k]:.3f}" if isinstance(s.get(k), (int, float)) and s[k] == s[k] else "-"  # NaN: missing
                        for k in ("balanced_accuracy", "roc_auc", "chance_f1_weighted", "ccc", "rmse")
                    )
                    words = [model_label(model), target_label(target), task_label(task, threshold, s.get("classes")),
                             protocol_label(protocol)]
                    lines.append(f"| {' | '.join(words)} | {f1} | {rest} |")
    lines += [
        "",
        f"Protocols (`metrics.json` keys in brackets): *{protocol_label('within_subject')}* (`within_subject`) trains "
        "and tests within each subject with whole trials held out (no window of a test trial is seen in training); "
        f"*{protocol_label('histn_blocks')}* (`histn_blocks`) holds out within-trial blocks (deep models); "
        f"*{protocol_label('loso')}* (`loso`) tests each subject with a model trained on all the others.",
        "",
    ]
    lines += [f"- note: {note}" for note in run_info.get("notes", [])]
    data_notes = data_notes_markdown(run_info)
    lines += ["", *data_notes] if data_notes else []
    if "preprocessing" in run_info:
        lines += [
            "",
            "## Preprocessing findings",
            "",
            "| subject | bad channels found | ICA components removed | notes |",
            "|---|---|---|---|",
        ]
        for subject, found in run_info["preprocessing"].items():
            bads = ", ".join(f"{ch} ({why})" for ch, why in found["bad_channels"].items()) or "none"
            notes = "; ".join(found.get("notes") or []).replace("|", "\\|") or "-"
            lines.append(f"| {subject} | {bads} | {found['ica_excluded'] or 'none'} | {notes} |")
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
