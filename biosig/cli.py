"""The ``biosig`` command line: one module per command under :mod:`biosig.commands`.

This is the one place that reaches every layer (``biosig``, ``graphs``,
``streaming``), and only inside each command, so ``biosig --help`` and
``biosig <command> --help`` import no heavy library: at start-up only typer
(and, to render help, rich) is imported; numpy, pydantic, the configuration and
the other layers load when a command runs.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    add_completion=False,
    # Plain help: typer's rich help imports rich.markdown, pygments and rich.traceback, 0.24 s per
    # ``--help`` against 0.11 s plain (benchmarks/bench_cli_startup.py); commands still print with rich.
    rich_markup_mode=None,
    no_args_is_help=True,
    add_help_option=False,  # replaced by ``--help`` in :func:`_root`, see :func:`_print_help`
    help="Physiological signals to valence and arousal.",
)


def _print_version(value: bool) -> None:
    """Print ``biosig-affect <version>`` and stop when ``--version`` is given."""
    if value:
        from biosig import __version__

        typer.echo(f"biosig-affect {__version__}")
        raise typer.Exit()


def _print_help(ctx: typer.Context, value: bool) -> None:
    """Print the help of ``biosig`` and stop when ``--help`` is given.

    typer's own help option defaults to None, and typer coerces a None flag
    through a pydantic adapter, so ``biosig <command> --help`` would import
    pydantic (about 0.1 s) only to skip the parent's absent ``--help``; this one
    defaults to False, which typer passes through unconverted. Same text, same
    place in the help.
    """
    if value and not ctx.resilient_parsing:
        typer.echo(ctx.get_help(), color=ctx.color)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
    show_help: bool = typer.Option(
        False, "--help", callback=_print_help, is_eager=True, expose_value=False, help="Show this message and exit."
    ),
) -> None:
    """biosig-affect command line."""


def _register_commands() -> None:
    """Add the commands that live in their own modules (each keeps heavy imports inside the command)."""
    from biosig.commands.calibrate import calibrate
    from biosig.commands.distill import distill
    from biosig.commands.liveview import liveview
    from biosig.commands.preprocess import preprocess
    from biosig.commands.record import record
    from biosig.commands.replay import replay
    from biosig.commands.run import run
    from biosig.commands.stream import stream
    from biosig.commands.sys_info import sys_info
    from biosig.commands.train import train

    for command in (run, preprocess, train, distill, stream, calibrate, replay, record, liveview):
        app.command()(command)
    app.command("sys-info")(sys_info)


_register_commands()


def main() -> None:
    """Console entry point."""
    app()
