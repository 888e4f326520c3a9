"""The main job: cohort -> preprocess -> features -> baseline evaluation -> report folder.

Subjects are processed one at a time (generate or read, preprocess, extract
features, then drop the signals), so memory stays flat as the cohort grows.
With a ``cache`` section they go through :mod:`biosig.cohort` instead: cached
per subject, computed in parallel workers, a failing subject skipped and listed
under ``cohort`` in ``run_info.json``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from biosig import __version__
from biosig.cohort import run_cohort, sources_from_config, uses_cohort_cache
from biosig.config import RunConfig
from biosig.evaluation.baseline import evaluate_cohort
from biosig.features.extract import feature_matrix
from biosig.pipeline import SessionResult, cohort_features
from biosig.report.plots import plot_confusion_matrices, plot_contrast_topomaps, plot_per_subject
from biosig.report.writer import render_markdown, write_atomic, write_json, write_predictions
from biosig.session import Session


def config_hash(config: RunConfig) -> str:
    """Short SHA-256 of the canonical JSON of the configuration."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def iter_sessions(config: RunConfig, report_dir: Path) -> Iterator[Session]:
    """Sessions of the configured source, through EDF + CSV files when ``via_files`` is set."""
    for source in sources_from_config(config, report_dir / "data"):
        yield source()


def run(config: RunConfig, console: Console | None = None) -> Path:
    """Run the main job and return the report folder."""
    console = console or Console()
    out = Path(config.report.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    truths: dict[str, dict] = {}
    n_subjects = config.source.synthetic.n_subjects
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("subjects: generate, preprocess, features", total=n_subjects)

        def sessions() -> Iterator[Session]:
            for session in iter_sessions(config, out):
                truths[session.subject] = session.info
                yield session

        def done(result: SessionResult) -> None:
            progress.advance(bar)

        t0 = time.perf_counter()
        cohort_summary = None
        if uses_cohort_cache(config):
            cohort = run_cohort(config, out, on_done=lambda _name: progress.advance(bar))
            # The baseline classifier needs the whole feature matrix in memory anyway.
            features, results = cohort.features.load(), cohort.results
            truths.update(cohort.session_info)
            cohort_summary = cohort.summary()
        else:
            features, results = cohort_features(sessions(), config, on_done=done)
        timings["cohort, preprocessing and features"] = time.perf_counter() - t0

        n_steps = len(config.evaluation.targets) * len(config.evaluation.tasks) * len(config.evaluation.protocols)
        evaluation = progress.add_task("evaluation", total=n_steps)
        t0 = time.perf_counter()
        metrics, predictions = evaluate_cohort(
            features, config.evaluation, on_step=lambda _name: progress.advance(evaluation)
        )
        timings["evaluation"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    figures = _write_figures(features, metrics, results[0], config, out)
    timings["figures"] = time.perf_counter() - t0
    run_info = _run_info(config, features, results, truths, timings)
    if cohort_summary is not None:
        run_info["cohort"] = cohort_summary
    write_json(out / "metrics.json", metrics)
    write_json(out / "run_info.json", run_info)
    write_predictions(out / "predictions.csv", predictions)
    write_atomic(out / "report.md", render_markdown(metrics, run_info, figures))
    return out


def _write_figures(features, metrics: dict, first: SessionResult, config: RunConfig, out: Path) -> dict[str, str]:
    ev = config.evaluation
    figures = {
        "Scalp contrast of differential entropy": plot_contrast_topomaps(
            features, first.eeg_info, list(ev.targets), ev.threshold, out / "topomap_contrast.png"
        ).name
    }
    for protocol in ev.protocols:
        figures[f"Confusion matrices, {protocol}"] = plot_confusion_matrices(
            metrics, protocol, out / f"confusion_{protocol}.png"
        ).name
    for task in ev.tasks:
        figures[f"Per-subject scores, {task}"] = plot_per_subject(metrics, task, out / f"per_subject_{task}.png").name
    return figures


def _run_info(config: RunConfig, features, results: list[SessionResult], truths: dict, timings: dict) -> dict:
    import mne
    import neurokit2
    import sklearn

    _x, names = feature_matrix(features)
    return {
        "name": config.name,
        "config_hash": config_hash(config),
        "config": config.model_dump(mode="json"),
        "n_subjects": len(results),
        "n_windows": int(features.sizes["window"]),
        "n_features": len(names),
        "window_length_s": config.windows.length,
        "window_hop_s": config.windows.hop,
        "baseline_mode": config.preprocess.baseline.mode,
        "C": config.evaluation.C,
        "preprocessing": {
            r.subject: {
                "bad_channels": r.log.bad_channels,
                "ica_excluded": r.log.ica_excluded,
                "notes": r.log.notes,
                "true_bad_channels": truths.get(r.subject, {}).get("bad_channels"),
            }
            for r in results
        },
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "versions": {
            "biosig-affect": __version__,
            "mne": mne.__version__,
            "neurokit2": neurokit2.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
