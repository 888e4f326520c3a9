"""Statistics of a rest after the live chain, the numbers every calibration path shares.

:func:`rest_statistics` runs a rest through the live chain up to the
model's normalisation (causal filters, resampling, re-reference, ICA) from
a zero state and takes each channel's mean and standard deviation, after
refusing a rest with a flat or noisy channel (:func:`rest_bad_channels`);
:class:`Calibration` is the result with where its rest came from (and, for a
model with ECG/EDA nodes, their rest level). Both calibration paths use
them (:mod:`streaming.calibrate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mne
import numpy as np

from biosig.config import BadChannelConfig
from biosig.errors import DataError
from biosig.preprocess.causal import CausalFilter, design_filters
from biosig.preprocess.eeg import PreprocessLog, detect_bad_channels
from biosig.preprocess.resample import resample_causal, resample_factors
from streaming.model_io import PERIPHERAL_FEATURES, LiveModel, LiveSpec
from streaming.online import OnlinePipeline, QualityConfig
from streaming.spatial import AffineMap, channel_map, reference_picks


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
    """Mean and standard deviation per channel of rest after the live chain (:mod:`streaming.calibrate`).

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
        Non-finite or out-of-range samples, a flat channel (raw peak-to-peak
        below ``quality.flat_ptp``), a flat or noisy channel after the filters
        by the offline rule (:func:`rest_bad_channels`; the message names the
        channels and why), or too few samples after ``skip``.
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
    bad = rest_bad_channels(y[:, skip:], names)
    if bad:
        found = "; ".join(f"{name} {why}" for name, why in bad.items())
        raise DataError(
            f"{source}: bad channels in the rest ({found}), by the offline rule (preprocess.bad_channels): "
            "their statistics would scale the live input wrongly; fix the electrodes and calibrate on another rest"
        )
    return RestStatistics(rest.mean(axis=1), rest.std(axis=1), rest.shape[1])



def rest_bad_channels(data: np.ndarray, channels: Sequence[str]) -> dict[str, str]:
    """Flat and noisy channels of a rest ``(n_channels, n_times)`` in volts, by the offline rule; name -> why.

    The rule and thresholds are offline preprocessing's
    (:func:`biosig.preprocess.eeg.detect_bad_channels` with the default
    :class:`biosig.config.BadChannelConfig`): a channel's robust amplitude is its
    interquartile range / 1.349; flat below ``flat_threshold`` (1e-7 V = 0.1 µV),
    noisy when the robust z-score of its log amplitude across the channels
    exceeds ``noisy_z`` (5). The calibration applies it to the filtered rest
    before the re-reference, where offline preprocessing does.
    """
    info = mne.create_info(list(channels), 1.0, "eeg")
    raw = mne.io.RawArray(np.asarray(data, dtype=np.float64), info, verbose="error")
    log = PreprocessLog()
    detect_bad_channels(raw, BadChannelConfig(), log)
    return {name: log.bad_channels[name] for name in channels if name in log.bad_channels}


def check_rest_span(spec: LiveSpec, seconds: float, where: str) -> None:
    """A rest shorter than one peripheral tile gives no level: refused (``where`` names it)."""
    if spec.peripheral_nodes and spec.peripheral_seconds is not None and seconds < spec.peripheral_seconds - 1e-9:
        raise DataError(
            f"{where}: {seconds:g} s of rest hold no {spec.peripheral_seconds:g}-s tile of the model's ECG/EDA "
            "features (metadata peripheral.seconds); calibrate on a longer rest"
        )
