"""``biosig distill CONFIG``: EEG teacher -> valence/arousal prototype grid -> face students -> report.

Trains the topomap teacher on the configured EEG cohort (or loads it from a
checkpoint, or reuses a saved grid), builds and saves the 5 x 5 prototype
grid, trains the configured student variants (CE, + KD, + Proto-KD, + D-Geo)
on the face set, exports the last one to ONNX and writes ``report.md``,
``metrics.json`` and PNG figures (:mod:`graphs.distill.job`). ``--out``
overrides ``report.out_dir``; ``--set KEY=VALUE`` (repeatable) any config value
(:mod:`biosig.config.overrides`). Heavy libraries are imported inside the command
so ``biosig --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from biosig.commands._config_options import set_option


def distill(
    config: Path = typer.Argument(..., help="YAML distillation configuration, e.g. configs/distill.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Report folder; overrides report.out_dir."),
    set_values: list[str] = set_option(),
) -> None:
    """Distil EEG valence/arousal prototypes into image-only face models and report the ablation."""
    from rich.console import Console

    from biosig.errors import BiosigError
    from biosig.signals import sigterm_as_interrupt
    from graphs.distill.config import load_distill_config
    from graphs.distill.job import run_distill

    console = Console()
    try:
        cfg = load_distill_config(config, set_values)
        with sigterm_as_interrupt():  # SIGTERM stops it as Ctrl-C does
            report = run_distill(cfg, out, log=lambda line: console.print(line, highlight=False))
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"Report written to [bold]{report.resolve()}[/] (report.md, metrics.json, PNG figures)")
