"""``biosig preprocess CONFIG``: fill the feature cache for every subject, without evaluating.

Options override the config's ``cache`` section: ``--cache DIR`` (default
``cache.dir``, else ``<report.out_dir>/cache``), ``--workers N`` local
processes, ``--scheduler tcp://host:8786`` a Dask cluster. The run's summary
(computed, cached, skipped subjects and why, timings) is printed and written to
``<cache>/runs/preprocess-<UTC time>.json``. ``--set KEY=VALUE`` (repeatable)
overrides any config value before validation (:mod:`biosig.config.overrides`).
Heavy libraries are imported inside the command so ``biosig --help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from biosig.commands._config_options import set_option


def preprocess(
    config: Path = typer.Argument(..., help="YAML run configuration, e.g. configs/demo.yaml."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: local processes)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Local worker processes (default: cache.workers)."
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="Cache folder (default: cache.dir, else <report dir>/cache)."
    ),
    set_values: list[str] = set_option(),
) -> None:
    """Preprocess every subject and cache its features (Zarr); `biosig run` with the same cache reuses them."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from biosig.cohort import run_cohort, sources_from_config
    from biosig.config import load_config
    from biosig.errors import BiosigError
    from biosig.report.writer import write_json
    from biosig.signals import sigterm_as_interrupt

    console = Console()
    try:
        cfg = load_config(config, set_values)
        overrides = {"dir": cache, "workers": workers, "scheduler": scheduler}
        settings = cfg.cache.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        if settings.dir is None:
            settings = settings.model_copy(update={"dir": Path(cfg.report.out_dir) / "cache"})
        cfg = cfg.model_copy(update={"cache": settings})
        n_sources = len(sources_from_config(cfg, Path(cfg.report.out_dir) / "data"))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        t0 = time.perf_counter()
        with sigterm_as_interrupt(), Progress(*columns, console=console) as progress:
            bar = progress.add_task("subjects: load, preprocess, features", total=n_sources)
            cohort = run_cohort(cfg, Path(cfg.report.out_dir), on_done=lambda _name: progress.advance(bar))
        elapsed = time.perf_counter() - t0
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    summary = {"config": str(config), "elapsed_s": round(elapsed, 3), **cohort.summary()}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    summary_path = write_json(Path(settings.dir) / "runs" / f"preprocess-{stamp}.json", summary)

    table = Table(title="Feature cache", caption=f"{settings.dir}, {cohort.executor}")
    table.add_column("subjects")
    table.add_column("count", justify="right")
    table.add_row("computed", str(len(cohort.computed)))
    table.add_row("from cache", str(len(cohort.cached)))
    table.add_row("skipped", str(len(cohort.skipped)))
    table.add_row("windows in cohort", str(summary["n_windows"]))
    console.print(table)
    for s in cohort.skipped:
        console.print(f"[yellow]skipped[/] {s.name} ({s.stage}): {s.error}", highlight=False)
    console.print(f"{elapsed:.1f} s; summary written to [bold]{summary_path}[/]", highlight=False)
