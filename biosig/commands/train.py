"""``biosig train CONFIG``: train and evaluate the deep models of the config's ``train`` section.

Sessions come from the ``source`` section (as in ``biosig run``); the inputs
are built once (:func:`graphs.training.experiment.model_inputs`), then every
model x target x task x protocol is trained fold by fold. Written to the report
folder (``--out``, default ``report.out_dir``): ``train_metrics.json``
(``metrics[model][target][task][protocol]``), ``train_predictions.csv`` (one
row per tested window) and ``train_run.json`` (config, sizes, timings). A
summary table is printed. Heavy libraries are imported inside the command so
``biosig --help`` stays fast.

With ``--export DIR`` the command then trains one final model per model x
target x task on all the windows and writes live checkpoints for ``biosig
stream`` there (:mod:`streaming.export`; what cannot run live is
refused before any training). Their normalisation needs a calibration:
``biosig calibrate CKPT --from REST_FILE --out DIR2`` or ``biosig stream
--calibrate SECONDS``.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def train(
    config: Path = typer.Argument(..., help="YAML run configuration with a train section, e.g. configs/train_histn.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Report folder; overrides report.out_dir."),
    export: Path | None = typer.Option(
        None, "--export", help="Also train final models on all windows and write live checkpoints (biosig stream) here."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Local processes training folds (train.workers)."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786: folds train there (train.scheduler)."
    ),
) -> None:
    """Train the configured deep models under the configured protocols and report their scores."""
    from biosig.cohort import sources_from_config
    from biosig.config import load_config
    from biosig.errors import BiosigError
    from biosig.report.writer import write_json, write_predictions
    from graphs.training.experiment import model_inputs, run_experiment
    from streaming.export import ExportResult, check_exportable, export_live_models

    try:
        cfg = load_config(config)
        overrides = {key: value for key, value in (("workers", workers), ("scheduler", scheduler)) if value is not None}
        if overrides:
            cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update=overrides)})
        report = Path(out if out is not None else cfg.report.out_dir)
        t0 = time.perf_counter()
        sources = sources_from_config(cfg, report / "data")
        with console.status("sessions: load and cut windows"):
            inputs = model_inputs((source() for source in sources), cfg.train, cfg.preprocess)
        if export is not None:
            check_exportable(cfg.train, cfg.preprocess, inputs)
        prepared = time.perf_counter() - t0
        with console.status("training") as status:
            metrics, predictions = run_experiment(inputs, cfg.train, on_step=lambda s: status.update(f"training {s}"))
        exported = ExportResult()
        if export is not None:
            with console.status("export: final models") as status:
                exported = export_live_models(
                    inputs, cfg.train, cfg.preprocess, export,
                    on_step=lambda s: status.update(f"export: training {s} on all windows"),
                )  # fmt: skip
        elapsed = time.perf_counter() - t0
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    first = next(iter(inputs.values()))
    run_info = {
        "config": str(config),
        "train": cfg.train.model_dump(mode="json"),
        "source": cfg.source.model_dump(mode="json"),
        "n_subjects": int(first.meta["subject"].nunique()),
        "n_windows": len(first),
        "inputs": {kind: list(ws.x.shape) for kind, ws in inputs.items()},
        "prepare_seconds": round(prepared, 3),
        "total_seconds": round(elapsed, 3),
        "exported": [str(e.path) for e in exported.exported],
    }
    write_json(report / "train_metrics.json", metrics)
    write_json(report / "train_run.json", run_info)
    write_predictions(report / "train_predictions.csv", predictions)
    # Piped output (logs, CI) defaults to 80 columns, which would truncate the scores.
    (console if console.is_terminal else Console(width=150)).print(summary_table(metrics))
    console.print(f"{elapsed:.1f} s; results written to [bold]{report.resolve()}[/] (train_metrics.json)", highlight=False)
    for e in exported.exported:
        console.print(f"live checkpoint {e.path} (best epoch {e.best_epoch}, validation loss {e.val_loss:.3f})", highlight=False)
    for why in exported.skipped:
        console.print(f"not exported: {why}", highlight=False)
    if exported.exported:
        console.print("calibrate before streaming: biosig calibrate CKPT --from REST_FILE --out DIR, or biosig stream --calibrate 60")


def summary_table(metrics: dict) -> Table:
    """One row per model x target x task x protocol: scores, chance, size and speed.

    Classification rows fill the F1 to Seq2HR columns, regression rows the
    CCC and RMSE ones (rating units; chance: the training mean); the others show "-".
    """
    names = ("f1_weighted", "chance_f1_weighted", "balanced_accuracy", "seq2hr", "ccc", "rmse", "chance_rmse")
    rows = [
        (
            model, target, task, protocol, *(f"{s[n]:.3f}" if n in s else "-" for n in names),
            str(s["parameters"]), f"{s['train_seconds_per_fold']:.2f}", f"{s['inference_windows_per_s']:.0f}",
        )
        for model, by_target in metrics.items()
        for target, by_task in by_target.items()
        for task, by_protocol in by_task.items()
        for protocol, s in by_protocol.items()
    ]  # fmt: skip
    # 14 columns: one space between cells, so that 150 columns (piped output) hold every header word.
    table = Table(title="Deep models (scores: mean over subjects)", collapse_padding=True)
    keys = ("model", "target", "task", "protocol")
    scores = ("F1 (w)", "chance F1", "bal. acc.", "Seq2HR", "CCC", "RMSE", "chance RMSE")
    for i, name in enumerate((*keys, *scores, "params", "train s/fold", "test windows/s")):
        if name in keys:
            # Narrower output squeezes the score columns (their headers wrap) rather than cut "regression" to "regressi…".
            table.add_column(name, no_wrap=True, min_width=max([len(name)] + [len(r[i]) for r in rows]))
        else:
            table.add_column(name, justify="right")
    for row in rows:
        table.add_row(*row)
    return table
