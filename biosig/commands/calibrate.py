"""``biosig calibrate``: calibrate live checkpoints with a rest recording.

:func:`streaming.calibrate.calibrate_checkpoints` does the work (optionally after
fitting the blink ICA with :func:`streaming.spatial.fit_live_ica`); this module
only parses the options and prints the result.
"""

from __future__ import annotations

from pathlib import Path

import typer

from biosig.commands._live import console, live_command


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
    with live_command(None):  # the recording is read through streaming.replay, which loads liblsl
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
            console().print(
                f"ICA fitted on {source}: components {list(cleaning.exclude)} excluded; written {fit_ica}",
                highlight=False, soft_wrap=True,
            )  # fmt: skip
        written, calibration = calibrate_checkpoints(
            checkpoints, session, out, start=start, seconds=seconds, source=source, ica=cleaning
        )
        console().print(
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
            console().print(
                f"ECG/EDA rest level over {calibration.tiles} tiles: {levels}", highlight=False, soft_wrap=True
            )
            missing = calibration.missing_levels()
            if missing:
                console().print(
                    f"[yellow]no usable rest tile:[/] {', '.join(missing)} (these features stay missing live)",
                    highlight=False, soft_wrap=True,
                )  # fmt: skip
        for path in written:
            console().print(f"written {path}", highlight=False, soft_wrap=True)
