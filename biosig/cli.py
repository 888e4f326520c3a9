"""The ``biosig`` command line. Heavy libraries are imported inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Physiological signals to valence and arousal.")
console = Console()


@app.callback()
def _root() -> None:
    """biosig-affect command line."""


@app.command()
def run(
    config: Path = typer.Argument(..., help="YAML run configuration, e.g. configs/demo.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Report folder; overrides report.out_dir."),
) -> None:
    """Run the main job: cohort -> preprocessing -> features -> baseline evaluation -> report."""
    from biosig.config import load_config
    from biosig.errors import BiosigError

    try:
        cfg = load_config(config)
        if out is not None:
            cfg = cfg.model_copy(update={"report": cfg.report.model_copy(update={"out_dir": out})})
        from graphs.training.runner import run as run_job

        report = run_job(cfg, console)
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"Report written to [bold]{report.resolve()}[/] (report.md, metrics.json, PNG figures)")


def _register_commands() -> None:
    """Add the commands that live in their own modules (each keeps heavy imports inside the command)."""
    from biosig.commands.distill import distill
    from biosig.commands.preprocess import preprocess
    from biosig.commands.train import train
    from streaming.cli import calibrate, record, replay, stream
    from streaming.liveview.cli import liveview

    for command in (preprocess, train, distill, stream, calibrate, replay, record, liveview):
        app.command()(command)


_register_commands()


def main() -> None:
    """Console entry point."""
    app()
