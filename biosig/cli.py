"""The ``biosig`` command line: one module per command under :mod:`biosig.commands`.

This is the one place that reaches every layer (``biosig``, ``graphs``,
``streaming``), and only inside each command, so ``biosig --help`` imports no
heavy library.
"""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Physiological signals to valence and arousal.")


@app.callback()
def _root() -> None:
    """biosig-affect command line."""


def _register_commands() -> None:
    """Add the commands that live in their own modules (each keeps heavy imports inside the command)."""
    from biosig.commands.distill import distill
    from biosig.commands.preprocess import preprocess
    from biosig.commands.run import run
    from biosig.commands.train import train
    from streaming.cli import calibrate, record, replay, stream
    from streaming.liveview.cli import liveview

    for command in (run, preprocess, train, distill, stream, calibrate, replay, record, liveview):
        app.command()(command)


_register_commands()


def main() -> None:
    """Console entry point."""
    app()
