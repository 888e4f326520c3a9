"""The main job: every configured model evaluated on the cohort, then the report folder.

``biosig run`` and ``biosig train`` both call :func:`run`. The feature
baseline (``logreg``) runs on the window features: subjects are processed one
at a time (generate or read, preprocess, extract features, then drop the
signals), so memory stays flat as the cohort grows; with a ``cache`` section
they go through :mod:`biosig.cohort` instead (cached per subject, computed in
parallel workers, a failing subject skipped and listed under ``cohort`` in
``run_info.json``). The deep models run on their own windows
(:func:`~graphs.training.deep_inputs.model_inputs`, once per ``windows``
setting, then :func:`~graphs.training.experiment.run_experiment`).

All models share one set of trial-level ``within_subject`` folds
(:mod:`biosig.evaluation.trial_folds`), so their comparisons are paired.

The report folder holds ``metrics.json`` (``model -> target -> task ->
protocol -> metric`` for every model, each entry with its ``statistics``,
:mod:`graphs.training.statistics_runner`), ``statistics.json`` (paired model
comparisons, protocol gaps, the budget, notes), ``predictions.csv`` (one row
per tested window, with ``model``, ``seed`` and ``fold`` columns),
``run_info.json`` (config, sizes, timings, notes on skipped combinations),
``report.md``, ``report.html`` and figures.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from biosig import __version__
from biosig.cohort import SessionSource, run_cohort, sources_from_config, uses_cohort_cache
from biosig.cohort_summary import results_account
from biosig.config import EvaluationConfig, ModelSpec, RunConfig
from biosig.errors import DataError
from biosig.evaluation.baseline import (
    FEATURE_PROTOCOLS,
    evaluate_cohort,
    feature_plan,
    unsupported,
)
from biosig.evaluation.targets import is_condition
from biosig.evaluation.seeds import combine_seeds
from biosig.features.extract import feature_matrix
from biosig.pipeline import SessionResult, cohort_features
from biosig.report.plots import (
    plot_confusion_matrices,
    plot_contrast_topomaps,
    plot_per_subject,
)
from biosig.report.html import write_html_report
from biosig.report.writer import (
    render_markdown,
    write_atomic,
    write_json,
    write_predictions,
)
from biosig.session import Session
from graphs.training.deep_inputs import check_models, model_inputs, windows_groups
from graphs.training.experiment import run_experiment
from graphs.training.progress import RunProgress
from graphs.training.recipe import recipe_notes
from graphs.training.statistics_runner import add_statistics, run_statistics, trial_ratings
from graphs.training.windows_dataset import WindowSet

#: Called with a group of deep models and their inputs before they train (e.g. to refuse an export early).
InputsHook = Callable[[tuple[ModelSpec, ...], dict[str, WindowSet]], None]


@dataclass
class RunResult:
    """What :func:`run` wrote and built: the report folder, the metrics, and each deep-model group's inputs."""

    report: Path
    metrics: dict
    inputs: list[tuple[tuple[ModelSpec, ...], dict[str, WindowSet]]] = field(default_factory=list)


def config_hash(config: RunConfig) -> str:
    """Short SHA-256 of the canonical JSON of the configuration."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run(config: RunConfig, console: Console | None = None) -> Path:
    """Evaluate every configured model on the cohort and return the report folder (:func:`run_models`)."""
    return run_models(config, console).report


def run_models(config: RunConfig, console: Console | None = None, on_inputs: InputsHook | None = None) -> RunResult:
    """Evaluate every configured model on the cohort and write the report folder (module docstring)."""
    console = console or Console()
    out = Path(config.report.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.deep_models:
        check_models(config.deep_models)
    timings: dict[str, float] = {}
    metrics: dict = {}
    frames: list[pd.DataFrame] = []
    info: dict[str, Any] = {"name": config.name, "config_hash": config_hash(config), "config": config.model_dump(mode="json")}
    figures: dict[str, str] = {}
    result = RunResult(out, metrics)
    features = first = trials = None
    skipped: list[str] = []
    sources = sources_from_config(config, out / "data")  # made once: listing a source may read file indexes
    if config.feature_models:
        feature_metrics, predictions, feature_info, features, first = _feature_models(
            config, out, sources, console, timings, skipped
        )
        trials = _feature_trials(features, config)
        metrics.update(feature_metrics)
        frames.append(predictions)
        info.update(feature_info)
        t0 = time.perf_counter()
        figures = _write_figures(features, feature_metrics, first, config, out)
        timings["figures"] = time.perf_counter() - t0
    if config.deep_models:
        deep_info = _deep_models(config, sources, console, timings, metrics, frames, result, on_inputs, skipped)
        info["deep_models"] = deep_info
        if trials is None and result.inputs:
            meta = next(iter(result.inputs[0][1].values())).meta
            trials = trial_ratings(meta, tuple(t for t in config.evaluation.targets if t in meta))
    info["notes"] = _notes(config) + skipped + recipe_notes(config, metrics)
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    t0 = time.perf_counter()
    with console.status("statistics"):
        add_statistics(metrics, predictions, trials, config)
        statistics = run_statistics(metrics, config, info["notes"])
    timings["statistics"] = time.perf_counter() - t0
    info["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    info["versions"] = _versions()
    write_json(out / "metrics.json", metrics)
    write_json(out / "statistics.json", statistics)
    write_json(out / "run_info.json", info)
    write_predictions(out / "predictions.csv", predictions)
    write_atomic(out / "report.md", render_markdown(metrics, info, figures))
    eeg_info = first.eeg_info if first is not None else None
    write_html_report(out, metrics, statistics, info, features=features, info=eeg_info)
    return result


def _feature_models(
    config: RunConfig,
    out: Path,
    sources: Sequence[SessionSource],
    console: Console,
    timings: dict[str, float],
    skipped: list[str],
) -> tuple:
    """The feature baseline on every seed: ``(metrics, predictions, run-info part, features, first session result)``.

    What it skips on this cohort (targets without labels, protocols it cannot run) is appended to ``skipped``.
    """
    truths: dict[str, dict] = {}
    verb = "generate" if config.source.kind == "synthetic" else "read"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"subjects: {verb}, preprocess, features", total=len(sources))

        def sessions() -> Iterator[Session]:
            for source in sources:
                session = source()
                truths[session.subject] = session.info
                yield session

        def done(result: SessionResult) -> None:
            progress.advance(bar)

        t0 = time.perf_counter()
        cohort_summary = None
        if uses_cohort_cache(config):
            cohort = run_cohort(config, out, on_done=lambda _name: progress.advance(bar), sources=sources)
            # The baseline classifier needs the whole feature matrix in memory anyway.
            features, results = cohort.features.load(), cohort.results
            truths.update(cohort.session_info)
            cohort_summary = cohort.summary()
        else:
            features, results = cohort_features(sessions(), config, on_done=done)
            cohort_summary = results_account(results, features)
        timings["cohort, preprocessing and features"] = time.perf_counter() - t0

        ev = config.evaluation
        n_steps = sum(_feature_runs(features, ev.for_model(spec)) for spec in config.feature_models) * len(ev.seeds)
        evaluation = progress.add_task("evaluation (with permutation reruns)", total=n_steps)
        t0 = time.perf_counter()
        per_seed: dict[int, dict] = {}
        frames = []
        for spec in config.feature_models:
            C = float(spec.hparams.get("C", 0.1))
            own = ev.for_model(spec)
            notes: list[str] = []
            for seed in ev.seeds:
                scores, predictions = evaluate_cohort(
                    features, own, C, seed, on_step=lambda _name: progress.advance(evaluation), notes=notes,
                    workers=config.cache.workers,
                )
                per_seed.setdefault(seed, {})[spec.name] = scores
                frames.append(predictions.assign(model=spec.name, seed=seed))
            skipped += [f"{spec.name}: {note}" for note in notes]
        timings["evaluation"] = time.perf_counter() - t0
    info = _feature_info(config, features, results, truths)
    if cohort_summary is not None:
        info["cohort"] = cohort_summary
    return combine_seeds(per_seed), pd.concat(frames, ignore_index=True), info, features, results[0]


def _deep_models(
    config: RunConfig,
    sources: Sequence[SessionSource],
    console: Console,
    timings: dict[str, float],
    metrics: dict,
    frames: list[pd.DataFrame],
    result: RunResult,
    on_inputs: InputsHook | None,
    skipped: list[str],
) -> list[dict]:
    """Train and score the deep models, one group per input-windows setting; returns their sizes for run_info.

    A group whose input windows cannot be cut from the source (e.g. trials shorter than its
    ``record_seconds``) is skipped with a note appended to ``skipped`` when other models of the
    run have results; with nothing else to report its error stands.
    """
    info = []
    for windows, group in windows_groups(config.deep_models):
        names = ", ".join(s.name for s in group)
        t0 = time.perf_counter()
        with RunProgress(console) as progress:
            progress.start("subjects", f"subjects: load and cut windows for {names}", len(sources))

            def sessions() -> Iterator[Session]:
                for source in sources:
                    yield source()
                    progress.advance("subjects")

            try:
                inputs = model_inputs(sessions(), group, config.preprocess)
            except DataError as exc:
                if not (config.feature_models or metrics):
                    raise
                skipped.append(f"{names}: skipped, their input windows cannot be cut from this source: {exc}")
                continue
            if on_inputs is not None:
                on_inputs(group, inputs)
            timings[f"windows: {names}"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            scores, predictions = run_experiment(inputs, config, group, progress=progress, notes=skipped)
        timings[f"training: {names}"] = time.perf_counter() - t0
        metrics.update(scores)
        frames.append(predictions)
        result.inputs.append((group, inputs))
        first = next(iter(inputs.values()))
        info.append(
            {
                "models": [s.name for s in group],
                "windows": windows.model_dump(mode="json"),
                "n_subjects": int(first.meta["subject"].nunique()),
                "n_windows": len(first),
                "inputs": {kind: list(ws.x.shape) for kind, ws in inputs.items()},
            }
        )
    return info


def _notes(config: RunConfig) -> list[str]:
    """What was skipped: combinations a model cannot run, and each model's budget where it narrows ``evaluation``."""
    ev = config.evaluation
    notes = [f"{spec.name}: {note}" for spec in config.feature_models for note in unsupported(ev.for_model(spec))]
    for spec in config.models:
        own = ev.for_model(spec)
        for key in ("tasks", "protocols"):
            skipped = [v for v in getattr(ev, key) if v not in getattr(own, key)]
            if skipped:
                notes.append(f"{spec.name}: {key} {skipped} skipped (its budget: {list(getattr(own, key))})")
        if not spec.is_feature_model and ev.max_folds is not None and ev.max_folds < ev.n_folds:
            notes.append(
                f"{spec.name}: within_subject and histn_blocks run the first {ev.max_folds} fold(s) of each subject, "
                f"LOSO the first {ev.max_folds} subject(s) (evaluation.max_folds)"
            )
    return notes


def _feature_runs(features, ev: EvaluationConfig) -> int:
    """Target x task x protocol combinations the feature baseline may run for one seed under ``ev`` (at most)."""
    return len(feature_plan(features, ev)[0]) * sum(p in FEATURE_PROTOCOLS for p in ev.protocols)


def _feature_trials(features, config: RunConfig) -> pd.DataFrame:
    """One row per (subject, trial) of the feature windows with each target's rating."""
    targets = tuple(t for t in config.evaluation.targets if t in features.variables)
    meta = pd.DataFrame({name: features[name].values for name in ("subject", "trial", *targets)})
    return trial_ratings(meta, targets)


def _write_figures(features, metrics: dict, first: SessionResult, config: RunConfig, out: Path) -> dict[str, str]:
    """Figures of the feature models: scalp contrasts, then confusion matrices and per-subject scores per model."""
    ev = config.evaluation
    figures = {}
    ratings = [t for t in ev.targets if not is_condition(t) and t in features.variables and np.isfinite(features[t].values).any()]
    if ratings and first.eeg_info is not None and "de" in features:
        figures["Scalp contrast of differential entropy"] = plot_contrast_topomaps(
            features, first.eeg_info, ratings, ev.threshold, out / "topomap_contrast.png"
        ).name
    several = len(metrics) > 1
    for model, by_target in metrics.items():
        prefix, suffix = (f"{model}, ", f"_{model}") if several else ("", "")
        ran = {p for by_task in by_target.values() for by_protocol in by_task.values() for p in by_protocol}
        for protocol in (p for p in ev.protocols if p in FEATURE_PROTOCOLS and p in ran):
            figures[f"Confusion matrices, {prefix}{protocol}"] = plot_confusion_matrices(
                by_target, protocol, out / f"confusion_{protocol}{suffix}.png"
            ).name
        for task in dict.fromkeys(task for by_task in by_target.values() for task in by_task):
            figures[f"Per-subject scores, {prefix}{task}"] = plot_per_subject(
                by_target, task, out / f"per_subject_{task}{suffix}.png"
            ).name
    return figures


def _feature_info(config: RunConfig, features, results: list[SessionResult], truths: dict) -> dict:
    _x, names = feature_matrix(features)
    return {
        "n_subjects": len(results),
        "n_windows": int(features.sizes["window"]),
        "n_features": len(names),
        "window_length_s": config.windows.length,
        "window_hop_s": config.windows.hop,
        "baseline_mode": config.preprocess.baseline.mode,
        "C": {spec.name: float(spec.hparams.get("C", 0.1)) for spec in config.feature_models},
        "preprocessing": {
            r.subject: {
                "bad_channels": r.log.bad_channels,
                "ica_excluded": r.log.ica_excluded,
                "notes": r.log.notes,
                "true_bad_channels": truths.get(r.subject, {}).get("bad_channels"),
                "reading_warnings": truths.get(r.subject, {}).get("warnings", []),
            }
            for r in results
        },
    }


def _versions() -> dict[str, str]:
    import mne
    import neurokit2
    import sklearn
    import torch

    return {
        "biosig-affect": __version__,
        "mne": mne.__version__,
        "neurokit2": neurokit2.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
    }
