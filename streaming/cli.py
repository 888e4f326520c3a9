"""``biosig stream``, ``biosig replay``, ``biosig record``, ``biosig calibrate``: the live side on the command line.

Every command first puts an LSL configuration in force (``--lsl-config
PATH``; default: the shipped loopback-only ``streaming/lsl_api.cfg``, which
keeps discovery and data on this machine; a lab passes its own file to
reach its devices) and only then imports the modules that load liblsl.
Expected failures (a stream not found, a model that does not fit the
stream) print one line and exit with status 2.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console

console = Console()

_LSL_CONFIG_HELP = (
    "liblsl configuration file (default: the shipped streaming/lsl_api.cfg, loopback only; "
    "labs pass their own to reach devices on their network)."
)


@contextlib.contextmanager
def _command(lsl_config: Path | None) -> Iterator[None]:
    """Put the LSL configuration in force, then turn expected errors into a message and exit 2."""
    from biosig.errors import BiosigError
    from streaming.lslconfig import use_lsl_config

    try:
        use_lsl_config(lsl_config)
    except FileNotFoundError as exc:
        console.print(f"[bold red]error:[/] {exc} (--lsl-config)", highlight=False)
        raise typer.Exit(2) from None
    try:
        yield
    except BiosigError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("stopped")


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
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=_LSL_CONFIG_HELP),
) -> None:
    """Predict valence and arousal live from an EEG stream; publish them on the LSL stream biosig-affect."""
    with _command(lsl_config):
        from streaming.api import LiveSession
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
            console.print(
                f"reading {eeg_reader.name_!r} ({len(eeg_reader.layout.names)} ch @ {eeg_reader.rate:g} Hz); "
                f"publishing on {session.outlet_name!r}"
            )
            seen = 0
            while duration is None or time.monotonic() - t0 < duration:
                pred = session.get(timeout=0.5)
                total = session.n_events
                new, seen = total - seen, total
                for event in list(session.events)[-new:] if new else []:
                    console.print(f"[yellow]{event.kind}[/] {event.detail}", highlight=False)
                if pred is not None and not quiet:
                    v = pred.values
                    console.print(
                        f"t={pred.t_last:.3f}  valence={v['valence']:.2f} ({v['valence_confidence']:.2f})  "
                        f"arousal={v['arousal']:.2f} ({v['arousal_confidence']:.2f})  quality={pred.quality:.2f}",
                        highlight=False,
                    )
        console.print(f"summary: {session.stats()}", highlight=False)


def replay(
    source: str = typer.Argument(..., help="A recording read_session reads (EDF, BDF, XDF...) or synthetic:S01."),
    speed: float = typer.Option(1.0, "--speed", min=0.001, help="Recording seconds per second (2: twice real time)."),
    loop: bool = typer.Option(False, "--loop", help="Start again at the end."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Stop after this many wall-clock seconds."),
    prefix: str = typer.Option("biosig-replay", "--prefix", help="Stream names are <prefix>-eeg, <prefix>-ecg, ..."),
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=_LSL_CONFIG_HELP),
) -> None:
    """Play a recorded session as LSL streams (one per modality, original rates, channels in the XML)."""
    with _command(lsl_config):
        from streaming.replay import replay as run_replay

        def ready(player) -> None:  # noqa: ANN001 - a streaming.replay.Replayer
            names = ", ".join(f"{s.outlet.get_info().name()} ({s.sfreq:g} Hz)" for s in player.streams)
            console.print(f"replaying {source} ({player.duration:.1f} s) at x{speed:g}: {names}", highlight=False)

        pushed = run_replay(source, speed=speed, loop=loop, duration=duration, prefix=prefix, on_ready=ready)
        console.print(f"done: {pushed:.1f} s of recording pushed")


def record(
    out: Path = typer.Argument(..., help="XDF file to write."),
    streams: list[str] = typer.Option([], "--stream", help="Stream to record (name=..., type=...); default: all."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Seconds to record (default: until Ctrl-C)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.5, help="Seconds LabRecorder may take to start."),
    lsl_config: Path | None = typer.Option(None, "--lsl-config", help=_LSL_CONFIG_HELP),
) -> None:
    """Record LSL streams to XDF with LabRecorder (read it back with read_session)."""
    with _command(lsl_config):
        from streaming.record import record as run_record

        path = run_record(
            out, streams or None, duration=duration, overwrite=overwrite, timeout=timeout,
            on_started=lambda: console.print(f"recording to {out}", highlight=False),
        )  # fmt: skip
        console.print(f"written {path}")


def calibrate(
    checkpoints: list[Path] = typer.Argument(..., help="Checkpoints of biosig train --export; one calibration for all."),
    source: str = typer.Option(
        ..., "--from", help="Rest recording: a file read_session reads (EDF, BDF, XDF...) or synthetic:S01."
    ),
    start: float | None = typer.Option(
        None, "--start", min=0, help="Start of the rest in s (default: the first trial's baseline, else 0)."
    ),
    seconds: float = typer.Option(
        60.0, "--seconds", min=0.1, help="Seconds of rest (the middle of the first baseline when that is longer)."
    ),
    out: Path = typer.Option(..., "--out", help="Folder of the calibrated copies (same names; inputs are kept)."),
    ica: Path | None = typer.Option(
        None, "--ica", help="The ICA the live session applies (biosig stream --ica): the rest is cleaned the same way."
    ),
    fit_ica: Path | None = typer.Option(
        None, "--fit-ica", help="Fit the blink ICA on the whole --from recording with the model's filters, save it "
        "here (*-ica.fif) for biosig stream --ica, and clean the rest with it.",
    ),
) -> None:
    """Calibrate checkpoints with a rest recording: per-channel mean and std after the live filters."""
    with _command(None):  # the recording is read through streaming.replay, which loads liblsl
        from biosig.errors import ConfigError
        from streaming.calibrate import calibrate_checkpoints
        from streaming.model_io import load_live_model
        from streaming.replay import load_source
        from streaming.spatial import fit_live_ica, load_ica

        if ica is not None and fit_ica is not None:
            raise ConfigError("give --ica (an ICA fitted before) or --fit-ica (fit one now), not both")
        session = load_source(source)
        cleaning = None if ica is None else load_ica(ica)
        if fit_ica is not None:
            if session.eeg is None:
                raise ConfigError(f"--fit-ica: {source} has no EEG")
            spec = load_live_model(checkpoints, allow_uncalibrated=True).spec
            cleaning = fit_live_ica(session.eeg, spec, fit_ica, label=source)
            console.print(
                f"ICA fitted on {source}: components {list(cleaning.exclude)} excluded; written {fit_ica}",
                highlight=False, soft_wrap=True,
            )  # fmt: skip
        written, calibration = calibrate_checkpoints(
            checkpoints, session, out, start=start, seconds=seconds, source=source, ica=cleaning
        )
        console.print(
            f"rest: {source}, {calibration.seconds:g} s from {calibration.start:g} s "
            f"({calibration.stats.samples} samples after the filter warm-up)",
            highlight=False,
            soft_wrap=True,
        )
        if calibration.peripheral is not None:
            from streaming.model_io import PERIPHERAL_FEATURES

            levels = ", ".join(
                f"{kind}:{name}={value:.4g}"
                for kind, level in calibration.peripheral.items()
                for name, value in zip(PERIPHERAL_FEATURES[kind], level, strict=True)
            )
            console.print(
                f"ECG/EDA rest level over {calibration.tiles} tiles: {levels}", highlight=False, soft_wrap=True
            )
            missing = calibration.missing_levels()
            if missing:
                console.print(
                    f"[yellow]no usable rest tile:[/] {', '.join(missing)} (these features stay missing live)",
                    highlight=False, soft_wrap=True,
                )  # fmt: skip
        for path in written:
            console.print(f"written {path}", highlight=False, soft_wrap=True)
