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
(:func:`biosig.preprocess.causal.design_filters`), causal resampling to the model's
rate when they differ (:func:`biosig.preprocess.resample.resample_causal`), the
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

**ECG/EDA nodes.** A model with peripheral nodes was trained on span
features minus each trial's baseline level: the mean of the same features
over back-to-back ``peripheral_seconds`` tiles of the baseline, NaN tiles left
out (:func:`graphs.training.windows_dataset.baseline_level`). The
calibration measures that level on the rest span its EEG statistics cover
(from their first sample to the span's end), tiled the same way
(:func:`~graphs.training.windows_dataset.baseline_tiles`) and averaged by
the same function (:func:`~graphs.training.windows_dataset.tile_level`):
from the recording with the offline cut (file path,
:func:`session_rest_level`), or from the ECG/EDA streams with the live cut
(:func:`streaming.online.trailing_span`, which equals the offline cut on a
regularly sampled stream) fed to :meth:`StreamCalibrator.feed_peripheral`.
On the stream, the calibration waits, up to ``peripheral_wait`` seconds of
EEG past the rest, for each peripheral stream's sample that closes the last
tile (a peripheral stream lagging the EEG would otherwise shorten it); the
EEG samples of that wait are not predicted. The level is stored in the
calibrated checkpoint as ``normalization.peripheral_offset``; a feature
without a usable tile is NaN there (``null``) and stays missing live, as
offline for a trial without a usable baseline tile.

Calibrated checkpoints are copies with the same file names in another
folder: the inputs are never modified, and each copy is written to a
temporary file in the output folder first, then renamed (:func:`os.replace`),
so a reader never sees a half-written checkpoint.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import ConfigError, DataError
from biosig.preprocess.causal import CausalFilter, design_filters
from biosig.preprocess.resample import resample_causal, resample_factors
from biosig.session import Session
from graphs.training.trainer import load_checkpoint
from graphs.training.windows_dataset import PERIPHERAL_NODES, baseline_level, baseline_tiles, tile_level
from streaming.buffer import Event
from streaming.model_io import PERIPHERAL_FEATURES, LiveModel, LiveSpec, load_live_model, save_live_checkpoint
from streaming.online import OnlinePipeline, PeripheralBuffer, QualityConfig
from streaming.spatial import AffineMap, channel_map, ica_map, reference_picks


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
    peripheral
        Rest level of each peripheral node's features ``(n_features,)``
        (units of :mod:`biosig.features.peripheral`, NaN: no usable tile), or
        None for a model without peripheral nodes.
    tiles
        Peripheral tiles the rest span holds.
    """

    stats: RestStatistics
    source: str
    start: float
    sfreq: float
    peripheral: dict[str, np.ndarray] | None = None
    tiles: int = 0

    @property
    def seconds(self) -> float:
        """Length of the rest the statistics cover, s."""
        return self.stats.samples / self.sfreq

    def as_metadata(self) -> dict[str, Any]:
        """The ``normalization.calibration`` entry of a calibrated checkpoint."""
        meta: dict[str, Any] = {
            "source": self.source, "start": self.start, "seconds": self.seconds, "samples": self.stats.samples,
        }  # fmt: skip
        if self.peripheral is not None:
            meta["peripheral_tiles"] = self.tiles
        return meta

    def missing_levels(self) -> list[str]:
        """``kind:feature`` of every peripheral feature without a usable rest tile (NaN level)."""
        return [
            f"{kind}:{name}"
            for kind, level in (self.peripheral or {}).items()
            for name, value in zip(PERIPHERAL_FEATURES[kind], level, strict=True)
            if not np.isfinite(value)
        ]


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
    return channel_map(len(spec.channels), None, reference_picks(spec.channels, spec.reference), ica)


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


def _check_rest_span(spec: LiveSpec, seconds: float, where: str) -> None:
    """A rest shorter than one peripheral tile gives no level: refused (``where`` names it)."""
    if spec.peripheral_nodes and spec.peripheral_seconds is not None and seconds < spec.peripheral_seconds - 1e-9:
        raise DataError(
            f"{where}: {seconds:g} s of rest hold no {spec.peripheral_seconds:g}-s tile of the model's ECG/EDA "
            "features (metadata peripheral.seconds); calibrate on a longer rest"
        )


def session_rest_level(
    session: Session, spec: LiveSpec, t0: float, t1: float, source: str
) -> tuple[dict[str, np.ndarray], int]:
    """ECG/EDA rest level of the span ``[t0, t1)`` s of a recording, per node of ``spec`` (module docstring).

    Returns
    -------
    levels
        ``{kind: (n_features,)}`` for each of ``spec.peripheral_nodes`` (NaN: no usable tile).
    tiles
        Tiles of ``spec.peripheral_seconds`` in the span.

    Raises
    ------
    DataError
        The recording lacks a node's signal, the span is shorter than one
        tile, or a tile lies outside the recording.
    """
    seconds = spec.peripheral_seconds
    assert seconds is not None
    missing = [kind.upper() for kind in spec.peripheral_nodes if getattr(session, kind) is None]
    if missing:
        raise DataError(
            f"{source}: the model has {'/'.join(k.upper() for k in spec.peripheral_nodes)} nodes, whose rest level "
            f"the calibration measures; the recording has no {'/'.join(missing)}"
        )
    _check_rest_span(spec, t1 - t0, f"{source} ({t0:g}-{t1:g} s)")
    rest = pd.DataFrame({"trial": ["rest"], "baseline_onset": [t0], "baseline_duration": [t1 - t0]})
    level = baseline_level(session, rest, seconds, label=source)[0]
    columns = np.cumsum([0, *(n for _, n in PERIPHERAL_NODES)])
    by_kind = {kind: level[columns[i] : columns[i + 1]] for i, (kind, _) in enumerate(PERIPHERAL_NODES)}
    tiles = int(baseline_tiles([t0], [t1 - t0], seconds)[1][0])
    return {kind: by_kind[kind] for kind in spec.peripheral_nodes}, tiles


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
        missing, a span outside the recording, or a bad rest (:func:`rest_statistics`);
        for a model with peripheral nodes, a missing ECG/EDA or a rest shorter
        than one tile (:func:`session_rest_level`).
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
    begin = first / rate + skip / spec.sfreq
    if not spec.peripheral_nodes:
        return Calibration(stats, source, begin, spec.sfreq)
    # The span the EEG statistics cover: from their first sample to the span's end.
    levels, tiles = session_rest_level(session, spec, begin, t1, source)
    return Calibration(stats, source, begin, spec.sfreq, levels, tiles)


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
    peripheral
        Rate (Hz) of each peripheral stream fed with :meth:`feed_peripheral`,
        by kind; a spec with peripheral nodes needs a stream per node.
    peripheral_wait
        Seconds of EEG past the rest to wait for the peripheral streams to
        close the last tile (module docstring); then the tiles they did not
        close are NaN.

    Attributes
    ----------
    result
        The calibration once complete, else None.

    Raises
    ------
    ConfigError
        A fixed normalisation, a rest shorter than two samples, a peripheral
        node without its stream, or a rest shorter than one peripheral tile.
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
        peripheral: Mapping[str, float] | None = None,
        peripheral_wait: float = 1.0,
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
        self.peripheral: dict[str, PeripheralBuffer] = {}
        self.peripheral_wait = float(peripheral_wait)
        if spec.peripheral_nodes:
            missing = [k for k in spec.peripheral_nodes if k not in (peripheral or {})]
            if missing:
                raise ConfigError(
                    f"the model has {'/'.join(k.upper() for k in spec.peripheral_nodes)} nodes, whose rest level the "
                    f"calibration measures: give the {'/'.join(k.upper() for k in missing)} stream "
                    f"({' '.join('--' + k for k in missing)})"
                )
            try:
                _check_rest_span(spec, n_rest / spec.sfreq, f"--calibrate {seconds:g}")
            except DataError as exc:
                raise ConfigError(str(exc)) from None
            assert spec.peripheral_seconds is not None
            # The whole calibration, restarts aside, plus the wait: the rest's tiles are cut when it ends.
            history = (self.warmup + n_rest) / spec.sfreq + self.peripheral_wait + 2.0 * self.gap_tolerance + 1.0
            self.peripheral = {
                kind: PeripheralBuffer(kind, rate, spec.peripheral_seconds, self.gap_tolerance, history=history)
                for kind, rate in (peripheral or {}).items()
                if kind in spec.peripheral_nodes
            }
        # The EEG rest once measured, waiting for the peripheral streams: (statistics, first and last stamps).
        self._rest: tuple[RestStatistics, float, float] | None = None

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
        if self._rest is not None:
            used = self._settle(t, events)
            self._last_stamp = float(t[used - 1]) if used else self._last_stamp
            return used, events
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
                if self._rest is not None:
                    lo += self._settle(t[lo:], events)
                    self._last_stamp = float(t[lo - 1])
                    return lo, events
            if hi < len(t):
                events.append(self._restart(float(t[hi]), f"stamps jump by {steps[hi]:+.3f} s"))
        self._last_stamp = float(t[-1])
        return len(t), events

    def feed_peripheral(self, kind: str, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Feed samples ``(n,)`` of a peripheral stream (ECG in volts, EDA in siemens) with their LSL stamps.

        Streams the spec has no node of are ignored. Feed them before the EEG
        chunks that may complete the calibration.
        """
        if kind in self.peripheral and self.result is None:
            self.peripheral[kind].add(samples, stamps)

    def _restart(self, stamp: float, reason: str) -> Event:
        self._count = 0
        detail = {"reason": reason, "seconds": self.seconds, "warmup_seconds": self.warmup / self.spec.sfreq}
        return Event("calibrating", stamp, detail)

    def _collect(self, x: np.ndarray, t: np.ndarray, lo: int, hi: int, events: list[Event]) -> int:
        """Take the continuous samples ``lo:hi`` until complete; the index after the last one taken."""
        while lo < hi and self._rest is None:
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
            self._rest = (stats, end - (stats.samples - 1) / self.spec.sfreq, end)
        return lo

    def _tile_ends(self) -> np.ndarray:
        """End stamps of the peripheral tiles of the measured rest, s (LSL clock)."""
        assert self._rest is not None and self.spec.peripheral_seconds is not None
        stats, start, _ = self._rest
        starts, _ = baseline_tiles([start], [stats.samples / self.spec.sfreq], self.spec.peripheral_seconds)
        return starts + self.spec.peripheral_seconds

    def _settle(self, t: np.ndarray, events: list[Event]) -> int:
        """Complete the calibration once the peripheral streams closed the last tile (or the wait is over).

        Returns the number of EEG samples of ``t`` (stamps, s) taken while waiting.
        """
        assert self._rest is not None
        used = 0
        if self.peripheral:
            last = self._tile_ends()[-1]
            # The sample closing a tile is stamped within the period before its end (trailing_span's cut).
            waiting = [b for b in self.peripheral.values() if b.newest <= last - 1.5 / b.sfreq]
            if waiting:
                late = np.flatnonzero(t > self._rest[2] + self.peripheral_wait)
                if not late.size:
                    return len(t)
                used = int(late[0])
        self._finish(events)
        return used

    def _finish(self, events: list[Event]) -> None:
        assert self._rest is not None
        stats, start, end = self._rest
        levels, tiles = None, 0
        if self.peripheral:
            ends = self._tile_ends()
            tiles = len(ends)
            levels = {
                kind: tile_level(buffer.features(ends)[0], np.array([tiles]))[0] for kind, buffer in self.peripheral.items()
            }
        self.result = Calibration(stats, "stream", start, self.spec.sfreq, levels, tiles)
        detail: dict[str, Any] = {
            "seconds": self.result.seconds,
            "mean_uV": [round(float(v) * 1e6, 4) for v in stats.mean],
            "std_uV": [round(float(v) * 1e6, 4) for v in stats.std],
        }
        if levels is not None:
            detail["peripheral_tiles"] = tiles
            detail["peripheral"] = {
                kind: [round(float(v), 4) if np.isfinite(v) else None for v in level] for kind, level in levels.items()
            }
            detail["no_usable_tile"] = self.result.missing_levels()
        events.append(Event("calibrated", end, detail))
