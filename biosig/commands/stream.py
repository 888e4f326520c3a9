"""``biosig stream``: predict valence and arousal live from an EEG stream and publish them on LSL.

The LSL configuration is put in force first (:func:`biosig.commands._live.live_command`),
then :class:`streaming.api.LiveSession` does the work; this module only parses
the options and prints what the session reports, starting with the addresses
it listens on (:func:`streaming.exposure.describe_listening`).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from biosig.commands._live import LSL_CONFIG_HELP, console, live_command


def stream(
    model: list[Path] = typer.Option(..., "--model", "-m", help="Checkpoint file; repeat for a second target's model."),
    eeg: str = typer.Option("type=EEG", "--eeg", help="EEG stream: name=X,type=Y,source_id=Z (any of them)."),
    channels: str | None = typer.Option(
        None, "--channels", help="Comma-separated EEG channel names, used when the stream's XML has none."
    ),
    unit: str | None = typer.Option(None, "--unit", help="EEG unit when the stream's XML has none (default uV)."),
    other: list[str] = typer.Option([], "--stream", help="Another stream to read alongside (ECG, EDA...); repeatable."),
    hop: float | None = typer.Option(None, "--hop", min=0.001, help="Window hop in s (default: the model's)."),
    log: Path | None = typer.Option(None, "--log", help="Write every prediction to this .csv or .parquet file."),
    name: str = typer.Option("biosig-affect", "--name", help="Name of the affect stream (markers: NAME-markers)."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Stop after this many seconds."),
    min_quality: float = typer.Option(
        1.0, "--min-quality", min=0, max=1,
        help="Smallest fraction of good channels that still gets a prediction (its bad channels interpolated; "
        "0.75 predicts where offline preprocessing would still interpolate).",
    ),  # fmt: skip
    max_lag: float = typer.Option(1.0, "--max-lag", min=0, help="Skip windows older than this (s) when behind."),
    lost_after: float = typer.Option(2.0, "--lost-after", min=0.1, help="Seconds without samples = stream lost."),
    resolve_timeout: float = typer.Option(2.0, "--resolve-timeout", min=0.1, help="Seconds to find the streams."),
    no_dejitter: bool = typer.Option(False, "--no-dejitter", help="Keep the sender's stamps (clock-corrected only)."),
    calibrate: float | None = typer.Option(
        None, "--calibrate", min=0.1,
        help="Seconds of rest at the start of the stream (after the filter warm-up) that calibrate a checkpoint "
        "of biosig train --export before it predicts.",
    ),  # fmt: skip
    ecg: str | None = typer.Option(None, "--ecg", help="ECG stream (name=X,...): heart rate/HRV features per window."),
    eda: str | None = typer.Option(None, "--eda", help="EDA stream (name=X,...): tonic level/SCR features per window."),
    peripheral_seconds: float | None = typer.Option(
        None, "--peripheral-seconds", min=1.0,
        help="Trailing span of the ECG/EDA features, s (default: the model's, else 10).",
    ),  # fmt: skip
    ica: Path | None = typer.Option(
        None, "--ica", help="ICA cleaning fitted offline, saved by MNE (*-ica.fif; streaming.spatial.fit_live_ica)."
    ),
    no_interpolate: bool = typer.Option(
        False, "--no-interpolate", help="Keep bad channels as they are (default: spherical-spline interpolation)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary."),
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=LSL_CONFIG_HELP),
) -> None:
    """Predict valence and arousal live from an EEG stream; publish them on the LSL stream biosig-affect."""
    with live_command(lsl_config):
        from streaming.api import LiveSession
        from streaming.exposure import describe_listening, listening_sockets
        from streaming.inlet import StreamQuery
        from streaming.online import QualityConfig

        query = StreamQuery.parse(eeg)
        if channels or unit:
            names = tuple(ch.strip() for ch in channels.split(",")) if channels else None
            query = StreamQuery(query.name, query.type, query.source_id, names, unit)
        session = LiveSession(
            model, query, other, hop=hop, log=log, quality=QualityConfig(min_quality=min_quality), max_lag=max_lag,
            lost_after=lost_after, resolve_timeout=resolve_timeout, dejitter=not no_dejitter, torch_threads=1,
            outlet_name=name, source_id=name, calibrate=calibrate, ecg=ecg, eda=eda,
            peripheral_seconds=peripheral_seconds, ica=ica, interpolate=False if no_interpolate else None,
        )  # fmt: skip
        t0 = time.monotonic()
        with session:
            eeg_reader = session.eeg
            assert eeg_reader is not None
            console().print(
                f"reading {eeg_reader.name_!r} ({len(eeg_reader.layout.names)} ch @ {eeg_reader.rate:g} Hz); "
                f"publishing on {session.outlet_name!r}"
            )
            console().print(describe_listening(listening_sockets()), highlight=False)
            seen = 0

            def print_events() -> None:
                """The events since the last call, one readable line each (the marker stream keeps the JSON)."""
                nonlocal seen
                total = session.n_events
                new, seen = total - seen, total
                for event in list(session.events)[-new:] if new else []:
                    console().print(f"[yellow]{event.describe()}[/]", highlight=False)

            while duration is None or time.monotonic() - t0 < duration:
                try:
                    pred = session.get(timeout=0.5)
                finally:
                    print_events()  # also those that say why the session stopped (layout_changed)
                if pred is not None and not quiet:
                    v = pred.values
                    console().print(
                        f"t={pred.t_last:.3f}  valence={v['valence']:.2f} ({v['valence_confidence']:.2f})  "
                        f"arousal={v['arousal']:.2f} ({v['arousal_confidence']:.2f})  quality={pred.quality:.2f}",
                        highlight=False,
                    )
        console().print(f"summary: {session.stats()}", highlight=False)
