"""Calibration from the first samples of a stream (``biosig stream --calibrate SECONDS``).

The stream path of :mod:`streaming.calibrate`: :class:`StreamCalibrator`
collects the warm-up plus the rest from the EEG chunks, restarting on a gap,
a clock jump or a bad rest, and with ECG/EDA nodes waits for the peripheral
streams to close the rest's last tile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import mne
import numpy as np

from biosig.errors import ConfigError, DataError
from biosig.preprocess.resample import resample_factors
from graphs.training.windows_dataset import baseline_tiles, tile_level
from streaming.buffer import Event
from streaming.calibrate.rest import Calibration, RestStatistics, check_rest_span, rest_statistics, warmup_samples
from streaming.model_io import LiveSpec
from streaming.online import PeripheralBuffer, QualityConfig
from streaming.spatial import ica_map


class StreamCalibrator:
    """Calibration from the first samples of a stream (:mod:`streaming.calibrate`: the stream path).

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
        close the last tile (:mod:`streaming.calibrate`); then the tiles they did not
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
                check_rest_span(spec, n_rest / spec.sfreq, f"--calibrate {seconds:g}")
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
