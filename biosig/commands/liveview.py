"""``biosig liveview``: serve the browser live view of the online valence/arousal estimates.

The liblsl configuration is put in force before pylsl is imported (the server
module, :mod:`streaming.liveview.server`, imports it), so ``--lsl-config``
decides how discovery behaves.
"""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from biosig.commands._live import console

#: Default prediction stream; the same name as :data:`streaming.liveview.AFFECT_STREAM`, written out here so
#: that ``biosig --help`` imports nothing from :mod:`streaming` (a test checks that the two agree).
AFFECT_STREAM: str = "biosig-affect"


def liveview(
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free port)."),
    lsl_config: Path | None = typer.Option(
        None, "--lsl-config", help="liblsl configuration file (default: the package's loopback-only lsl_api.cfg)."
    ),
    stream: str = typer.Option(
        AFFECT_STREAM, "--stream", help="Prediction stream name; markers and quality are read from NAME-markers, NAME-quality."
    ),
    lost_after: float = typer.Option(
        2.0, "--lost-after", min=0.1, help="Seconds without a prediction before the stream counts as lost."
    ),
) -> None:
    """Serve the live view (circumplex with trace, channel quality, stream status) on http://127.0.0.1:PORT/."""
    from streaming.lslconfig import use_lsl_config

    try:
        use_lsl_config(lsl_config)
    except FileNotFoundError as exc:
        console().print(f"[bold red]error:[/] --lsl-config: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    from biosig.errors import BiosigError
    from streaming.liveview.server import LiveViewServer

    try:
        server = LiveViewServer(port=port, stream=stream, lost_after=lost_after).start()
    except BiosigError as exc:
        console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console().print(f"Live view on [bold]{server.url}[/] following LSL stream {stream!r}; Ctrl-C stops it.", highlight=False)
    from biosig.signals import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():
            threading.Event().wait()  # until Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
