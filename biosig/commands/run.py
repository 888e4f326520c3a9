"""``biosig run CONFIG``: the main job, every configured model from the config's source to the report folder.

``--set KEY=VALUE`` (repeatable) overrides one config value before validation
(:mod:`biosig.config.overrides`); ``--out`` overrides ``report.out_dir``.
Heavy libraries are imported inside the command so ``biosig --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from biosig.commands._config_options import set_option


def run(
    config: Path = typer.Argument(..., help="YAML run configuration, e.g. configs/demo.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Report folder; overrides report.out_dir."),
    set_values: list[str] = set_option(),
) -> None:
    """Run the main job: cohort -> preprocessing -> features or windows -> every model's evaluation -> report."""
    from rich.console import Console

    from biosig.config import load_config
    from biosig.errors import BiosigError

    console = Console()
    try:
        cfg = load_config(config, set_values)
        if out is not None:
            cfg = cfg.model_copy(update={"report": cfg.report.model_copy(update={"out_dir": out})})
        from graphs.training.runner import run as run_job

        report = run_job(cfg, console)
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"Report written to [bold]{report.resolve()}[/] (report.html, report.md, metrics.json, statistics.json, PNG figures)")
