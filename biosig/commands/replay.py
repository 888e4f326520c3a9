"""``biosig replay``: play a recorded session as LSL streams (:func:`streaming.replay.replay`).

The LSL configuration is put in force first (:func:`biosig.commands._live.live_command`); once the
outlets exist, the command prints the addresses it listens on (:func:`streaming.exposure.describe_listening`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from biosig.commands._live import LSL_CONFIG_HELP, console, live_command


def replay(
    source: str = typer.Argument(..., help="A recording read_session reads (EDF, BDF, XDF...) or synthetic:S01."),
    speed: float = typer.Option(1.0, "--speed", min=0.001, help="Recording seconds per second (2: twice real time)."),
    loop: bool = typer.Option(False, "--loop", help="Start again at the end."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Stop after this many wall-clock seconds."),
    prefix: str = typer.Option("biosig-replay", "--prefix", help="Stream names are <prefix>-eeg, <prefix>-ecg, ..."),
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=LSL_CONFIG_HELP),
) -> None:
    """Play a recorded session as LSL streams (one per modality, original rates, channels in the XML)."""
    with live_command(lsl_config):
        from streaming.exposure import describe_listening, listening_sockets
        from streaming.replay import replay as run_replay

        def ready(player) -> None:  # noqa: ANN001 - a streaming.replay.Replayer
            names = ", ".join(f"{s.outlet.get_info().name()} ({s.sfreq:g} Hz)" for s in player.streams)
            console().print(f"replaying {source} ({player.duration:.1f} s) at x{speed:g}: {names}", highlight=False)
            console().print(describe_listening(listening_sockets()), highlight=False)

        pushed = run_replay(source, speed=speed, loop=loop, duration=duration, prefix=prefix, on_ready=ready)
        console().print(f"done: {pushed:.1f} s of recording pushed")
