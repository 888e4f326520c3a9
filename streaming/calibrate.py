"""Calibration: statistics of a rest recording, the live stand-in for training's baseline z-score.

``biosig train --export`` writes checkpoints whose normalisation reads
``{"calibrate": true, "max_scale": [...]}`` (:mod:`streaming.model_io`): the
model saw each trial z-scored against its own pre-trial rest, which a live
session does not have. A calibration records rest at the start of the live
session instead and takes each channel's mean and standard deviation
(population, as :func:`biosig.preprocess.windows.baseline_zscore`); the live
inputs become ``(x - mean) / (std * max_scale)``.

The rest goes through the live chain up to the model's normalisation, from
a zero state as a new stream: the causal filters at the stream's rate
(:func:`streaming.online.design_filters`), causal resampling to the model's
rate when they differ (:func:`streaming.resample.resample_causal`), the
re-reference and the optional fixed ICA (:mod:`streaming.spatial`); the
warm-up left out is the live pipeline's own
(:attr:`streaming.online.OnlinePipeline.warmup`). Bad-channel interpolation
is not part of it: a rest with an invalid or flat channel is refused. Two
paths share one function, :func:`rest_statistics`, so the same samples give
the same numbers:

* **file** (``biosig calibrate CKPT --from FILE``, :func:`calibrate_checkpoints`):
  a span of a recording (any file :func:`biosig.io.read_session` reads, or a
  synthetic subject). Default span: the first trial's baseline, its middle
  ``seconds`` when it is longer (training uses the middle of the baseline);
  without a trial table, the first ``seconds`` of the recording. Filtering
  starts one warm-up before the span, so every sample of the span is past
  the warm-up; a span that begins within the recording's first warm-up
  starts at its end instead.
* **stream** (``biosig stream --calibrate SECONDS``, :class:`StreamCalibrator`):
  the first warm-up plus ``SECONDS`` of the stream's samples. A gap or clock
  jump in the stamps (a lost stream, an overrun) restarts the calibration, as
  do invalid samples or a flat channel in the rest; each (re)start is a
  ``calibrating`` event saying why, the end a ``calibrated`` event.

Calibrated checkpoints are copies with the same file names in another
folder: the inputs are never modified, and each copy is written to a
temporary file in the output folder first, then renamed (:func:`os.replace`),
so a reader never sees a half-written checkpoint.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mne
import numpy as np

from biosig.errors import ConfigError, DataError
from biosig.evaluation.trainer import load_checkpoint
from biosig.session import Session
from streaming.buffer import Event
from streaming.model_io import LiveModel, LiveSpec, load_live_model, save_live_checkpoint
from streaming.online import CausalFilter, OnlinePipeline, QualityConfig, design_filters
from streaming.resample import resample_causal, resample_factors
from streaming.spatial import AffineMap, ica_map


@dataclass(frozen=True)
class RestStatistics:
    """Per-channel statistics of a rest recording after the live chain.

    Attributes
    ----------
    mean, std
        ``(n_channels,)`` in volts, channels in model order.
    samples
        Samples (at the model's rate) the statistics cover, after the warm-up.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: int


@dataclass(frozen=True)
class Calibration:
    """A calibration and where its rest came from.

    Attributes
    ----------
    stats
        The rest statistics.
    source
        The recording (path or ``synthetic:Sxx``) or ``"stream"``.
    start
        Time of the first sample the statistics cover, s: from the start of
        the recording (file) or on the LSL clock (stream).
    sfreq
        The model's sampling rate, Hz.
    """

    stats: RestStatistics
    source: str
    start: float
    sfreq: float

    @property
    def seconds(self) -> float:
        """Length of the rest the statistics cover, s."""
        return self.stats.samples / self.sfreq

    def as_metadata(self) -> dict[str, Any]:
        """The ``normalization.calibration`` entry of a calibrated checkpoint."""
        return {"source": self.source, "start": self.start, "seconds": self.seconds, "samples": self.stats.samples}


def warmup_samples(spec: LiveSpec, stream_sfreq: float | None = None) -> int:
    """Model-rate samples left out after a zero state: the live pipeline's filter and resampler warm-up.

    Raises
    ------
    DataError
        The stream's rate cannot be resampled to the model's, or is too low for the filters.
    """
    return OnlinePipeline(LiveModel(spec, []), stream_sfreq=stream_sfreq, interpolate=False).warmup


def spatial_map(spec: LiveSpec, ica: AffineMap | None = None) -> AffineMap | None:
    """Re-reference then ICA as one map over the model's channels, as the live pipeline composes them.

    None when there is neither. The pipeline's own map also interpolates the
    bad channels of each window, so it is built per window; a rest has none.

    Raises
    ------
    ConfigError
        Reference channels that are not model channels.
    """
    if spec.reference is None and ica is None:
        return None
    n = len(spec.channels)
    matrix, offset = np.eye(n), np.zeros(n)
    if spec.reference is not None:
        names = list(spec.channels)
        ref = names if spec.reference == "average" else list(spec.reference)
        missing = [ch for ch in ref if ch not in names]
        if missing:
            raise ConfigError(f"reference channels {missing} are not among the model's channels {names}")
        weights = np.zeros(n)
        weights[[names.index(ch) for ch in ref]] = 1.0 / len(ref)
        matrix = matrix - weights[None, :]
    if ica is not None:
        matrix, offset = ica.matrix @ matrix, ica.offset
    return AffineMap(matrix, offset)


def rest_statistics(
    data: np.ndarray,
    spec: LiveSpec,
    skip: int,
    *,
    stream_sfreq: float | None = None,
    ica: AffineMap | None = None,
    source: str = "rest recording",
    quality: QualityConfig | None = None,
) -> RestStatistics:
    """Mean and standard deviation per channel of rest after the live chain (module docstring).

    Parameters
    ----------
    data
        ``(n_channels, n_times)`` in volts at ``stream_sfreq``, channels in
        model order, processed from a zero state as a new stream is.
    spec
        The live input definition (filters, reference, channels, rate).
    skip
        Leading model-rate samples left out of the statistics (the warm-up, :func:`warmup_samples`).
    stream_sfreq
        Rate of ``data``, Hz (default: the model's).
    ica
        The live ICA cleaning over the model's channels (:func:`streaming.spatial.ica_map`), or None.
    source
        What the data is, for messages.
    quality
        Thresholds for invalid samples and flat channels (default: the live pipeline's).

    Raises
    ------
    DataError
        Non-finite or out-of-range samples, a flat channel (the message names
        the channels), or too few samples after ``skip``.
    """
    x = np.asarray(data, dtype=np.float64)
    names = spec.channels
    if x.ndim != 2 or x.shape[0] != len(names):
        raise DataError(f"{source}: rest data of shape {x.shape}; expected ({len(names)} channels, n_times)")
    q = quality or QualityConfig()
    with np.errstate(invalid="ignore"):
        invalid = ~(np.abs(x) <= q.raw_limit)  # NaN compares false: flagged too
    if invalid.any():
        bad = [names[i] for i in np.flatnonzero(invalid.any(axis=1))]
        raise DataError(f"{source}: channels {bad} hold non-finite or out-of-range samples (|x| > {q.raw_limit} V)")
    flat = np.ptp(x, axis=1) < q.flat_ptp if x.shape[1] else np.ones(len(names), dtype=bool)
    if flat.any():
        bad = [names[i] for i in np.flatnonzero(flat)]
        raise DataError(f"{source}: channels {bad} are flat in the rest (peak-to-peak below {q.flat_ptp} V)")
    rate = spec.sfreq if stream_sfreq is None else float(stream_sfreq)
    y = CausalFilter(design_filters(spec.filter, rate), len(names))(x)
    if resample_factors(rate, spec.sfreq) != (1, 1):
        y = resample_causal(y, rate, spec.sfreq)
    chain = spatial_map(spec, ica)
    rest = (y if chain is None else chain(y))[:, skip:]
    if rest.shape[1] < 2:
        raise DataError(
            f"{source}: {rest.shape[1]} samples of rest after the {skip}-sample warm-up; the calibration needs more"
        )
    return RestStatistics(rest.mean(axis=1), rest.std(axis=1), rest.shape[1])


def rest_span(session: Session, start: float | None, seconds: float) -> tuple[float, float]:
    """The rest span ``(t0, t1)`` in s of a session (module docstring: the default span)."""
    if start is not None:
        return float(start), float(start) + seconds
    if not session.trials.empty:
        first = session.trials.sort_values("baseline_onset").iloc[0]
        used = min(seconds, float(first["baseline_duration"]))
        t0 = float(first["baseline_onset"]) + (float(first["baseline_duration"]) - used) / 2.0
        return t0, t0 + used
    return 0.0, seconds


def calibrate_session(
    session: Session,
    spec: LiveSpec,
    *,
    start: float | None = None,
    seconds: float = 60.0,
    source: str = "recording",
    ica: mne.preprocessing.ICA | None = None,
    quality: QualityConfig | None = None,
) -> Calibration:
    """Rest statistics of a recorded session's EEG (module docstring: the file path).

    Parameters
    ----------
    session
        The recording; its EEG must hold the model's channels (any order),
        at the model's rate or one resampled to it.
    spec
        The live input definition.
    start, seconds
        Rest span in s (:func:`rest_span`).
    source
        Name of the recording, for messages and the checkpoint's metadata.
    ica
        The fixed ICA the live session applies (``biosig stream --ica``), or None.
    quality
        Thresholds for invalid samples and flat channels.

    Raises
    ------
    DataError
        No EEG, a rate the model's cannot be reached from, a model channel
        missing, a span outside the recording, or a bad rest (:func:`rest_statistics`).
    """
    raw = session.eeg
    if raw is None:
        raise DataError(f"{source}: the recording has no EEG")
    rate = float(raw.info["sfreq"])
    up, down = resample_factors(rate, spec.sfreq)
    index = {name.casefold(): i for i, name in enumerate(raw.ch_names)}
    missing = [ch for ch in spec.channels if ch.casefold() not in index]
    if missing:
        raise DataError(f"{source}: the model needs EEG channels {missing}; the recording has {raw.ch_names}")
    t0, t1 = rest_span(session, start, seconds)
    lo, hi = int(round(t0 * rate)), int(round(t1 * rate))
    if lo < 0 or hi > raw.n_times:
        raise DataError(f"{source}: the rest span {t0:g}-{t1:g} s lies outside the recording (0-{raw.n_times / rate:g} s)")
    warmup = warmup_samples(spec, rate)
    # Model-rate output m lies at input m * down / up: start early enough for the span to be past the warm-up.
    first = max(0, lo - math.ceil(warmup * down / up))
    skip = max(math.ceil((lo - first) * up / down), warmup)
    data = raw.get_data(picks=[index[ch.casefold()] for ch in spec.channels], start=first, stop=hi)
    mapped = None if ica is None else ica_map(ica, spec.channels, f"{source}: ICA")
    label = f"{source} ({t0:g}-{t1:g} s)"
    stats = rest_statistics(data, spec, skip, stream_sfreq=rate, ica=mapped, source=label, quality=quality)
    return Calibration(stats, source, first / rate + skip / spec.sfreq, spec.sfreq)


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
        The rest recording (:func:`calibrate_session`).
    out_dir
        Folder of the copies (same file names); created if needed.
    start, seconds, source, ica
        As :func:`calibrate_session`.

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
        Unreadable checkpoints or a bad rest (:func:`calibrate_session`).
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
    spec = live.spec.calibrated(calibration.stats.mean, calibration.stats.std)
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


class StreamCalibrator:
    """Calibration from the first samples of a stream (module docstring: the stream path).

    Parameters
    ----------
    spec
        The live input definition; its normalisation must be calibrated (``calibrate: true``).
    seconds
        Rest to collect after the warm-up, s.
    gap_tolerance
        Largest step between stamps beyond the sampling period that still
        counts as continuous, s (as :class:`~streaming.online.OnlinePipeline`'s).
    quality
        Thresholds for invalid samples and flat channels.
    stream_sfreq
        The stream's rate, Hz (default: the model's).
    ica
        The fixed ICA of the live session, or None.

    Attributes
    ----------
    result
        The calibration once complete, else None.
    """

    def __init__(
        self,
        spec: LiveSpec,
        seconds: float,
        gap_tolerance: float = 0.1,
        quality: QualityConfig | None = None,
        *,
        stream_sfreq: float | None = None,
        ica: mne.preprocessing.ICA | None = None,
    ) -> None:
        if not spec.calibrate:
            raise ConfigError(
                "the model's normalisation is fixed (no normalization.calibrate: true in its metadata); "
                "it takes no calibration (drop --calibrate)"
            )
        self.spec = spec
        self.seconds = float(seconds)
        self.gap_tolerance = float(gap_tolerance)
        self.quality = quality
        self.rate = spec.sfreq if stream_sfreq is None else float(stream_sfreq)
        self.ica = None if ica is None else ica_map(ica, spec.channels, "ICA")
        self.warmup = warmup_samples(spec, self.rate)
        n_rest = int(round(self.seconds * spec.sfreq))
        if n_rest < 2:
            raise ConfigError(f"--calibrate {seconds} s is shorter than two samples at {spec.sfreq:g} Hz")
        up, down = resample_factors(self.rate, spec.sfreq)
        # Input samples whose model-rate outputs cover the warm-up and the rest (output m needs input m * down / up).
        self.needed = math.ceil((self.warmup + n_rest - 1) * down / up) + 1
        self._data = np.empty((self.needed, len(spec.channels)))
        self._count = 0
        self._last_stamp: float | None = None
        self.result: Calibration | None = None

    def feed(self, data: np.ndarray, stamps: np.ndarray) -> tuple[int, list[Event]]:
        """Collect samples until the calibration is complete.

        Parameters
        ----------
        data
            ``(n_samples, n_channels)`` in volts, channels in model order.
        stamps
            ``(n_samples,)`` LSL time stamps, s.

        Returns
        -------
        used
            Samples of this chunk the calibration took; the rest (after
            completion) belong to the pipeline.
        events
            ``calibrating`` (start or restart, with the reason) and ``calibrated``.
        """
        x = np.asarray(data, dtype=np.float64)
        t = np.asarray(stamps, dtype=np.float64).reshape(-1)
        events: list[Event] = []
        if self.result is not None or not len(t):
            return 0, events
        period = 1.0 / self.rate
        steps = np.diff(t, prepend=t[0] if self._last_stamp is None else self._last_stamp)
        if self._last_stamp is None:
            steps[0] = period
            events.append(self._restart(float(t[0]), "start"))
        breaks = np.flatnonzero((steps > period + self.gap_tolerance) | (steps <= -self.gap_tolerance)).tolist()
        lo = 0
        for hi in (*breaks, len(t)):
            if hi > lo:
                lo = self._collect(x, t, lo, hi, events)
                if self.result is not None:
                    self._last_stamp = float(t[lo - 1])
                    return lo, events
            if hi < len(t):
                events.append(self._restart(float(t[hi]), f"stamps jump by {steps[hi]:+.3f} s"))
        self._last_stamp = float(t[-1])
        return len(t), events

    def _restart(self, stamp: float, reason: str) -> Event:
        self._count = 0
        detail = {"reason": reason, "seconds": self.seconds, "warmup_seconds": self.warmup / self.spec.sfreq}
        return Event("calibrating", stamp, detail)

    def _collect(self, x: np.ndarray, t: np.ndarray, lo: int, hi: int, events: list[Event]) -> int:
        """Take the continuous samples ``lo:hi`` until complete; the index after the last one taken."""
        while lo < hi and self.result is None:
            take = min(hi - lo, self.needed - self._count)
            self._data[self._count : self._count + take] = x[lo : lo + take]
            self._count += take
            lo += take
            if self._count < self.needed:
                break
            end = float(t[lo - 1])
            try:
                stats = rest_statistics(
                    self._data.T, self.spec, self.warmup, stream_sfreq=self.rate, ica=self.ica,
                    source="calibration rest", quality=self.quality,
                )  # fmt: skip
            except DataError as exc:
                events.append(self._restart(end, str(exc)))
                continue
            # The statistics cover the last outputs, the newest at the last input's time.
            self.result = Calibration(stats, "stream", end - (stats.samples - 1) / self.spec.sfreq, self.spec.sfreq)
            detail = {
                "seconds": self.result.seconds,
                "mean_uV": [round(float(v) * 1e6, 4) for v in stats.mean],
                "std_uV": [round(float(v) * 1e6, 4) for v in stats.std],
            }
            events.append(Event("calibrated", end, detail))
        return lo
