"""What the live commands (``stream``, ``replay``, ``record``, ``calibrate``) share.

Every live command first puts an LSL configuration in force (``--lsl-config
PATH``; default: the shipped loopback-only ``streaming/lsl_api.cfg``, which
keeps discovery and data on this machine; a lab passes its own file to reach
its devices) and only then imports the modules that load liblsl. Expected
failures (a stream not found, a model that does not fit the stream) print one
line and exit with status 2. SIGTERM stops a command as Ctrl-C does
(:func:`biosig.signals.sigterm_as_interrupt`): its ``finally`` blocks run,
so logs are complete and outlets withdrawn.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

LSL_CONFIG_HELP = (
    "liblsl configuration file (default: the shipped streaming/lsl_api.cfg, loopback only; "
    "labs pass their own to reach devices on their network)."
)


@functools.cache
def console() -> Console:
    """The live commands' rich console, made on first use so that ``--help`` does not build it."""
    from rich.console import Console

    return Console()


@contextlib.contextmanager
def live_command(lsl_config: Path | None) -> Iterator[None]:
    """Put the LSL configuration in force, then turn expected errors into a message and exit 2.

    Ctrl-C and SIGTERM end the block cleanly with "stopped" (exit status 0).
    """
    from biosig.errors import BiosigError
    from biosig.signals import sigterm_as_interrupt
    from streaming.lslconfig import use_lsl_config

    try:
        use_lsl_config(lsl_config)
    except FileNotFoundError as exc:
        console().print(f"[bold red]error:[/] {exc} (--lsl-config)", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        with sigterm_as_interrupt():
            yield
    except BiosigError as exc:
        console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console().print("stopped")
