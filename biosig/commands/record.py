"""``biosig record``: record LSL streams to XDF with LabRecorder (:func:`streaming.record.record`).

The LSL configuration is put in force first (:func:`biosig.commands._live.live_command`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from biosig.commands._live import LSL_CONFIG_HELP, console, live_command


def record(
    out: Path = typer.Argument(..., help="XDF file to write."),
    streams: list[str] = typer.Option([], "--stream", help="Stream to record (name=..., type=...); default: all."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Seconds to record (default: until Ctrl-C)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.5, help="Seconds LabRecorder may take to start."),
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=LSL_CONFIG_HELP),
) -> None:
    """Record LSL streams to XDF with LabRecorder (read it back with read_session)."""
    with live_command(lsl_config):
        from streaming.record import record as run_record

        path = run_record(
            out, streams or None, duration=duration, overwrite=overwrite, timeout=timeout,
            on_started=lambda: console().print(f"recording to {out}", highlight=False),
        )  # fmt: skip
        console().print(f"written {path}")
