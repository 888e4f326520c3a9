"""``biosig train CONFIG``: evaluate the config's models (as ``biosig run``), print a summary, optionally export.

The same runner as ``biosig run`` (:func:`graphs.training.runner.run_models`): every
model of ``models`` x target x task x protocol x seed of ``evaluation``, deep
models trained fold by fold as ``train`` says, with ``--workers`` and
``--scheduler`` overriding ``train.workers`` and ``train.scheduler``, and
``--set KEY=VALUE`` (repeatable, :mod:`biosig.config.overrides`) any config
value. Written to the report folder (``--out``, default ``report.out_dir``): ``metrics.json``
(``metrics[model][target][task][protocol]``), ``predictions.csv`` (one row per
tested window), ``statistics.json`` (model comparisons, protocol gaps, the
budget), ``run_info.json`` (config, sizes, timings, exported checkpoints),
``report.md`` and ``report.html``. A summary table is printed. Heavy libraries are imported inside the command so
``biosig --help`` stays fast.

With ``--export DIR`` the command then trains one final model per model x
target x task on all the windows and writes live checkpoints for ``biosig
stream`` there (:mod:`streaming.export`; what cannot run live is
refused before any training). Their normalisation needs a calibration:
``biosig calibrate CKPT --from REST_FILE --out DIR2`` or ``biosig stream
--calibrate SECONDS``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from biosig.commands._config_options import set_option

if TYPE_CHECKING:
    from rich.table import Table


def train(
    config: Path = typer.Argument(..., help="YAML run configuration listing deep models, e.g. configs/train_histn.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Report folder; overrides report.out_dir."),
    export: Path | None = typer.Option(
        None, "--export", help="Also train final models on all windows and write live checkpoints (biosig stream) here."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Local processes training folds (train.workers)."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786: folds train there (train.scheduler)."
    ),
    set_values: list[str] = set_option(),
) -> None:
    """Train and evaluate the configured models under the configured protocols and report their scores."""
    from rich.console import Console

    from biosig.config import load_config
    from biosig.errors import BiosigError
    from biosig.report.writer import write_json
    from graphs.training.runner import run_models
    from streaming.export import ExportResult, check_exportable, export_live_models

    console = Console()
    try:
        cfg = load_config(config, set_values)
        overrides = {key: value for key, value in (("workers", workers), ("scheduler", scheduler)) if value is not None}
        update: dict = {"train": cfg.train.model_copy(update=overrides)} if overrides else {}
        if out is not None:
            update["report"] = cfg.report.model_copy(update={"out_dir": out})
        cfg = cfg.model_copy(update=update)
        t0 = time.perf_counter()

        def refuse_early(models, inputs) -> None:
            check_exportable(cfg, models, inputs)

        result = run_models(cfg, console, on_inputs=refuse_early if export is not None else None)
        exported = ExportResult()
        if export is not None:
            with console.status("export: final models") as status:
                for models, inputs in result.inputs:
                    part = export_live_models(
                        inputs, cfg, models, export, on_step=lambda s: status.update(f"export: training {s} on all windows")
                    )
                    exported.exported += part.exported
                    exported.skipped += part.skipped
        elapsed = time.perf_counter() - t0
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    report = result.report
    if exported.exported:
        info = json.loads((report / "run_info.json").read_text(encoding="utf-8"))
        write_json(report / "run_info.json", {**info, "exported": [str(e.path) for e in exported.exported]})
    # Piped output (logs, CI) defaults to 80 columns, which would truncate the scores.
    (console if console.is_terminal else Console(width=150)).print(summary_table(result.metrics))
    console.print(f"{elapsed:.1f} s; results written to [bold]{report.resolve()}[/] (metrics.json, statistics.json, report.html)", highlight=False)
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
    from rich.table import Table

    names = ("f1_weighted", "chance_f1_weighted", "balanced_accuracy", "seq2hr", "ccc", "rmse", "chance_rmse")
    rows = [
        (
            model, target, task, protocol, *(f"{s[n]:.3f}" if n in s else "-" for n in names),
            str(s.get("parameters", "-")),
            f"{s['train_seconds_per_fold']:.2f}" if "train_seconds_per_fold" in s else "-",
            f"{s['inference_windows_per_s']:.0f}" if "inference_windows_per_s" in s else "-",
        )
        for model, by_target in metrics.items()
        for target, by_task in by_target.items()
        for task, by_protocol in by_task.items()
        for protocol, s in by_protocol.items()
    ]  # fmt: skip
    # 14 columns: one space between cells, so that 150 columns (piped output) hold every header word.
    table = Table(title="Models (scores: mean over subjects)", collapse_padding=True)
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
