"""The run's self-contained HTML report (``report.html``), an :class:`mne.Report` beside ``report.md``.

Sections, in order: summary; results (mean over subjects with its interval,
chance, p and the "not above chance" flag); data and preprocessing
(subjects skipped, EEG channels dropped, the asymmetry note and features
with NaN windows, :mod:`biosig.report.data_notes`; per-subject bad channels
and ICA components, power spectra before/after preprocessing for one
subject, the montage); per-subject scores; confusion matrices; scalp maps of
the feature contrast; model comparisons; provenance (config, versions, seeds,
timings, budget). Figures are embedded as images and every script and style
sheet is inlined by MNE, so the page makes no request when opened.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import mne
import numpy as np
import xarray as xr
import yaml

from biosig.report.data_figures import has_positions, plot_montage, plot_psd_before_after
from biosig.report.data_notes import data_notes_html
from biosig.report.html_tables import (
    NOT_ABOVE_CHANCE,
    STYLE,
    budget_table,
    comparisons_tables,
    key_value_table,
    note,
    preprocessing_table,
    results_table,
)
from biosig.report.labels import entry_classes, model_label, protocol_label, task_label, target_label
from biosig.report.plots import plot_contrast_topomaps
from biosig.report.score_figures import plot_confusion_counts, plot_subject_scores, subject_scores

#: Section titles of the page (the report's table of contents).
SECTIONS = {
    "summary": "Summary",
    "results": "Results",
    "data": "Data and preprocessing",
    "subjects": "Per-subject scores",
    "confusion": "Confusion matrices",
    "scalp": "Scalp maps of the feature contrast",
    "comparisons": "Model comparisons",
    "provenance": "Provenance",
}


def _place(key: str) -> dict[str, Any]:
    """Where an element goes: its section, tagged with the section's key (the page's "filter by tags")."""
    return {"section": SECTIONS[key], "tags": (key,)}


def _evaluation(run_info: Mapping) -> dict:
    return dict(run_info.get("config", {}).get("evaluation", {}))


def _summary(metrics: Mapping, run_info: Mapping) -> str:
    entries = [e for m in metrics.values() for t in m.values() for k in t.values() for e in k.values()]
    flagged = sum(bool(e.get("statistics", {}).get("not_above_chance")) for e in entries)
    with_stats = sum("statistics" in e for e in entries)
    models = ", ".join(model_label(m) for m in metrics)
    text = (
        f"<p><b>{len(entries)}</b> scores of {escape(models)} on <b>{run_info.get('n_subjects', '?')}</b> subjects. "
        "The unit of analysis is the subject: every score is a mean over subjects. "
    )
    if with_stats:
        text += (f"<b>{flagged}</b> of {with_stats} scores with a 95% interval are flagged "
                 f"<i>{NOT_ABOVE_CHANCE}</i> (their interval includes chance).")
    if with_stats < len(entries):
        text += (f" {len(entries) - with_stats} scores have no interval statistics: they show mean ± SD over "
                 "subjects against stratified chance.")
    return f"{STYLE}{text}</p>"


def _missing_caption(by_target: Mapping, task: str, threshold: float) -> str:
    """Which subjects have no score (NaN) in a per-subject figure, in words."""
    missing = []
    for target, tasks in by_target.items():
        for protocol, entry in tasks.get(task, {}).items():
            absent = [s for s, v in subject_scores(entry)[0].items() if v != v]
            if absent:
                missing.append(f"{', '.join(absent)} missing in {target_label(target)}, {protocol_label(protocol)}")
    return ("Subjects without a score (shown as 'missing', no bar): " + "; ".join(missing) + ".") if missing else ""


def _add_data(report: mne.Report, run_info: Mapping, info: mne.Info | None, raw_before, raw_after, tmp: Path) -> None:
    place = _place("data")
    report.add_html(data_notes_html(run_info), "Subjects skipped, channels dropped, asymmetry and NaN features",
                    **place)
    report.add_html(preprocessing_table(run_info), "Bad channels and ICA components per subject", **place)
    subject = next(iter(run_info.get("preprocessing", {}) or {}), "the first subject")
    if raw_before is not None and raw_after is not None:
        psd = plot_psd_before_after(raw_before, raw_after, subject, tmp / "psd.png")
        report.add_image(psd, "Power spectra before and after preprocessing", **place,
                         caption=f"{subject}: line noise and drifts before; filtered, re-referenced signal after.")
    else:
        report.add_html(note("Power spectra before/after preprocessing: not available (this run passed no raw recording)."),
                        "Power spectra before and after preprocessing", **place)
    if info is not None and has_positions(info):
        report.add_image(plot_montage(info, tmp / "montage.png"), "Montage", **place)
    else:
        report.add_html(note("Montage: no sensor positions were given for this run."), "Montage", **place)


def _add_scores(report: mne.Report, metrics: Mapping, threshold: float, tmp: Path) -> None:
    for model, by_target in metrics.items():
        tasks = list(dict.fromkeys(task for tasks in by_target.values() for task in tasks))
        for task in tasks:
            path = plot_subject_scores(by_target, model, task, tmp / f"subjects_{model}_{task}.png", threshold)
            with_task = [by_protocol for by_task in by_target.values() for t, by_protocol in by_task.items() if t == task]
            classes = entry_classes(with_task[0]) if len(with_task) == 1 else None
            report.add_image(path, f"{model_label(model)}: {task_label(task, threshold, classes)}", **_place("subjects"),
                             caption=_missing_caption(by_target, task, threshold) or None)
        protocols = list(dict.fromkeys(p for tasks in by_target.values() for ps in tasks.values() for p in ps))
        for protocol in protocols:
            path = plot_confusion_counts(by_target, model, protocol, tmp / f"confusion_{model}_{protocol}.png", threshold)
            if path is not None:
                report.add_image(path, f"{model_label(model)}: {protocol_label(protocol)}", **_place("confusion"))


def _add_scalp(report: mne.Report, features: xr.Dataset | None, info: mne.Info | None, run_info: Mapping,
               threshold: float, tmp: Path) -> None:
    title, place = "Differential entropy, high vs low rating", _place("scalp")
    targets = [  # rating targets only: a condition label has no high/low rating to contrast
        t for t in _evaluation(run_info).get("targets", [])
        if features is not None and t in features.coords and features[t].dtype.kind == "f"
        and bool(np.isfinite(features[t].values).any())
    ]
    if features is None or info is None or not targets or "de" not in features:
        report.add_html(note("Scalp maps: this run has no EEG window features with ratings (e.g. deep models only, "
                             "condition targets, or no EEG)."),
                        title, **place)
        return
    path = plot_contrast_topomaps(features, info, targets, threshold, tmp / "topomap_contrast.png")
    report.add_image(path, title, **place, caption=(
        "Per subject, mean differential entropy of high-rating minus low-rating windows; t across subjects. "
        "White dots: channels whose contrast survives Holm correction over all channels and bands (p <= 0.05)."
    ))


def _add_provenance(report: mne.Report, run_info: Mapping, statistics: Mapping | None) -> None:
    place = _place("provenance")
    config = run_info.get("config")
    if config:
        report.add_code(yaml.safe_dump(config, sort_keys=False), "Configuration (YAML; click to expand)",
                        language="yaml", **place)
    seeds = _evaluation(run_info).get("seeds", (statistics or {}).get("budget", {}).get("seeds", []))
    facts = {"run": run_info.get("name", "?"), "config hash": run_info.get("config_hash", "-"),
             "seeds": ", ".join(str(s) for s in seeds) or "-"}
    report.add_html(key_value_table(facts, ("item", "value"), "run-facts") + key_value_table(
        run_info.get("versions", {}), ("package", "version"), "versions"), "Run, seeds and package versions",
        **place)
    timings = {step: f"{seconds:.1f} s" for step, seconds in run_info.get("timings_s", {}).items()}
    report.add_html(key_value_table(timings, ("step", "wall time"), "timings"), "Timings", **place)
    notes = [*run_info.get("notes", []), *(statistics or {}).get("notes", [])]
    report.add_html(budget_table(statistics) + "".join(note(n) for n in notes), "Budget and notes", **place)


def write_html_report(
    out_dir: Path,
    metrics: Mapping[str, Any],
    statistics: Mapping[str, Any] | None,
    run_info: Mapping[str, Any],
    features: xr.Dataset | None = None,
    info: mne.Info | None = None,
    raw_before: mne.io.BaseRaw | None = None,
    raw_after: mne.io.BaseRaw | None = None,
) -> Path:
    """Write ``out_dir / "report.html"`` and return its path.

    Parameters
    ----------
    out_dir
        The run's report folder (beside ``metrics.json``).
    metrics
        ``metrics.json``: ``model -> target -> task -> protocol -> entry``; entries
        with a ``"statistics"`` key get an interval, chance, p and flag, older
        entries mean ± SD and stratified chance.
    statistics
        ``statistics.json`` (comparisons, protocol gaps, budget, notes), or None.
    run_info
        ``run_info.json`` (config, per-subject preprocessing, timings, versions).
    features
        The window features (``de`` over window x channel x band, ratings as
        window coordinates) for the scalp maps; None leaves a note instead.
    info
        EEG measurement info with sensor positions (montage, scalp maps).
    raw_before, raw_after
        One subject's recording before and after preprocessing, for the power
        spectra; either missing leaves a note instead.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = float(_evaluation(run_info).get("threshold", 3.0))
    # MNE prints one line per inlined asset while saving; the run's console stays quiet.
    with tempfile.TemporaryDirectory() as tmp_dir, mne.utils.use_log_level("error"), \
            contextlib.redirect_stdout(io.StringIO()):
        tmp = Path(tmp_dir)
        report = mne.Report(title=f"biosig-affect report: {run_info.get('name', 'run')}")
        report.add_html(_summary(metrics, run_info), "This run", **_place("summary"))
        report.add_html(results_table(metrics, threshold) + note(
            "Interval: 95% over subjects (t or bootstrap, as the column says). Chance: the permutation null "
            "(labels shuffled at the trial level within each subject, the whole fold loop rerun) where permutations "
            "ran, else a stratified random guess. A score is flagged 'not above chance' when its interval includes "
            "(or lies below) the chance level."), "Scores over subjects, with intervals and chance",
            **_place("results"))
        _add_data(report, run_info, info, raw_before, raw_after, tmp)
        _add_scores(report, metrics, threshold, tmp)
        _add_scalp(report, features, info, run_info, threshold, tmp)
        report.add_html(comparisons_tables(statistics, threshold), "Paired comparisons over subjects",
                        **_place("comparisons"))
        _add_provenance(report, run_info, statistics)
        staging = out_dir / f".report.{os.urandom(8).hex()}.html"
        try:
            report.save(staging, open_browser=False, overwrite=True, verbose="error")
            os.replace(staging, out_dir / "report.html")
        finally:
            staging.unlink(missing_ok=True)
    return out_dir / "report.html"
