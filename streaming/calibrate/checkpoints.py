"""Calibrated checkpoints: copies of a model's checkpoints carrying one calibration from a rest recording.

The copies keep the file names in another folder; each is written to a
temporary file there first and then renamed (:func:`os.replace`), so a reader
never sees a half-written checkpoint (:mod:`streaming.calibrate`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import mne

from biosig.errors import ConfigError
from biosig.session import Session
from graphs.training.trainer import load_checkpoint
from streaming.calibrate.recording import calibrate_session
from streaming.calibrate.rest import Calibration
from streaming.model_io import load_live_model, save_live_checkpoint


def calibrate_checkpoints(
    paths: Sequence[str | Path],
    session: Session,
    out_dir: str | Path,
    *,
    start: float | None = None,
    seconds: float = 60.0,
    source: str = "recording",
    ica: mne.preprocessing.ICA | None = None,
) -> tuple[list[Path], Calibration]:
    """Write calibrated copies of checkpoints, one calibration for all of them.

    Parameters
    ----------
    paths
        Checkpoints whose normalisation is calibrated (``calibrate: true``;
        already calibrated ones are calibrated again); they must agree on
        the input, as for :func:`~streaming.model_io.load_live_model`.
    session
        The rest recording (:func:`~streaming.calibrate.recording.calibrate_session`).
    out_dir
        Folder of the copies (same file names); created if needed.
    start, seconds, source, ica
        As :func:`~streaming.calibrate.recording.calibrate_session`.

    Returns
    -------
    written
        The calibrated checkpoints, in the order of ``paths``.
    calibration
        The statistics and the span they cover.

    Raises
    ------
    ConfigError
        A checkpoint's normalisation is fixed (nothing to calibrate), two
        inputs share a file name, or a copy would replace its input.
    DataError
        Unreadable checkpoints or a bad rest (:func:`~streaming.calibrate.recording.calibrate_session`).
    """
    sources = [Path(p) for p in paths]
    live = load_live_model(sources, allow_uncalibrated=True)
    if not live.spec.calibrate:
        raise ConfigError(
            f"{' '.join(map(str, sources))}: the normalisation is fixed (no normalization.calibrate: true in the "
            "metadata); there is nothing to calibrate"
        )
    out = Path(out_dir)
    targets = [out / p.name for p in sources]
    if len({t.name for t in targets}) != len(targets):
        raise ConfigError(f"checkpoints {[str(p) for p in sources]} share a file name; calibrate them separately")
    for src, target in zip(sources, targets, strict=True):
        if target.resolve() == src.resolve():
            raise ConfigError(f"--out {out} would overwrite {src}; calibrated copies go to another folder")
    calibration = calibrate_session(session, live.spec, start=start, seconds=seconds, source=source, ica=ica)
    spec = live.spec.calibrated(calibration.stats.mean, calibration.stats.std, calibration.peripheral)
    normalization = {**spec.as_metadata()["normalization"], "calibration": calibration.as_metadata()}
    out.mkdir(parents=True, exist_ok=True)
    for src, entry, target in zip(sources, live.models, targets, strict=True):
        _, meta = load_checkpoint(src)
        meta["normalization"] = normalization
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            save_live_checkpoint(partial, entry.model, meta)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return targets, calibration
