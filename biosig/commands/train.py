"""``biosig train CONFIG``: train and evaluate the deep models of the config's ``train`` section.

Sessions come from the ``source`` section (as in ``biosig run``); the inputs
are built once (:func:`biosig.evaluation.experiment.model_inputs`), then every
model x target x task x protocol is trained fold by fold. Written to the report
folder (``--out``, default ``report.out_dir``): ``train_metrics.json``
(``metrics[model][target][task][protocol]``), ``train_predictions.csv`` (one
row per tested window) and ``train_run.json`` (config, sizes, timings). A
summary table is printed. Heavy libraries are imported inside the command so
``biosig --help`` stays fast.
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
) -> None:
    """Train the configured deep models under the configured protocols and report their scores."""
    from biosig.cohort import sources_from_config
    from biosig.config import load_config
    from biosig.errors import BiosigError
    from biosig.evaluation.experiment import model_inputs, run_experiment
    from biosig.report.writer import write_json, write_predictions

    try:
        cfg = load_config(config)
        report = Path(out if out is not None else cfg.report.out_dir)
        t0 = time.perf_counter()
        sources = sources_from_config(cfg, report / "data")
        with console.status("sessions: load and cut windows"):
            inputs = model_inputs((source() for source in sources), cfg.train, cfg.preprocess)
        prepared = time.perf_counter() - t0
        with console.status("training") as status:
            metrics, predictions = run_experiment(inputs, cfg.train, on_step=lambda s: status.update(f"training {s}"))
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
    }
    write_json(report / "train_metrics.json", metrics)
    write_json(report / "train_run.json", run_info)
    write_predictions(report / "train_predictions.csv", predictions)
    # Piped output (logs, CI) defaults to 80 columns, which would truncate the scores.
    (console if console.is_terminal else Console(width=150)).print(summary_table(metrics))
    console.print(f"{elapsed:.1f} s; results written to [bold]{report.resolve()}[/] (train_metrics.json)", highlight=False)


def summary_table(metrics: dict) -> Table:
    """One row per model x target x task x protocol: scores, chance, size and speed."""
    table = Table(title="Deep models (scores: mean over subjects)")
    keys = ("model", "target", "task", "protocol")
    for name in (*keys, "F1 (w)", "chance F1", "bal. acc.", "Seq2HR", "params", "train s/fold", "test windows/s"):
        table.add_column(name, justify="left" if name in keys else "right")
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol, s in by_protocol.items():
                    seq = f"{s['seq2hr']:.3f}" if "seq2hr" in s else "-"
                    table.add_row(
                        model, target, task, protocol,
                        f"{s['f1_weighted']:.3f}", f"{s['chance_f1_weighted']:.3f}", f"{s['balanced_accuracy']:.3f}", seq,
                        str(s["parameters"]), f"{s['train_seconds_per_fold']:.2f}", f"{s['inference_windows_per_s']:.0f}",
                    )  # fmt: skip
    return table
