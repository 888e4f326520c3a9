"""The stateful signal processing of one live EEG stream: filters, resampler and the segment's buffers.

Each input piece (``(n_samples, n_channels)`` volts at the stream's rate,
stamps already made non-decreasing) goes through:

* **invalid samples** (NaN, inf, ``|x| > raw_limit``): they never reach the
  filter; the channel's last valid value is held instead, so the state stays
  finite and the channel recovers as soon as valid samples return; where a
  run of invalid samples ends, and wherever the state is not finite anyway,
  the channel's state is reset to the steady state of its current input;
* the **filters** (:class:`biosig.preprocess.causal.CausalFilter`, the
  offline notch and band-pass cascade with its state carried across chunks);
* the **resampler** to the model's rate when the stream's differs
  (:class:`biosig.preprocess.resample.CausalResampler`).

The raw samples, their invalid flags and the filtered samples of the current
segment are kept in ring buffers for the windows to read; :meth:`StreamDSP.reset`
starts a segment afresh (zero filter and resampler state).
"""

from __future__ import annotations

import numpy as np

from biosig.errors import DataError
from biosig.preprocess.causal import CausalFilter, design_filters
from biosig.preprocess.resample import CausalResampler
from streaming.buffer import RingBuffer
from streaming.model_io import LiveSpec
from streaming.online.results import PipelineStats


def make_resampler(spec: LiveSpec, stream_sfreq: float) -> CausalResampler | None:
    """The resampler from ``stream_sfreq`` (Hz) to the model's rate; None when they are equal.

    Raises
    ------
    DataError
        The model's rate is too low for the band-pass's upper edge (aliasing).
    """
    if abs(stream_sfreq - spec.sfreq) <= 1e-9 * spec.sfreq:
        return None
    h_freq = spec.filter.h_freq if spec.filter is not None else None
    if h_freq is not None and h_freq >= spec.sfreq / 2:
        raise DataError(
            f"the stream at {stream_sfreq:g} Hz is resampled to the model's {spec.sfreq:g} Hz, too low for "
            f"preprocess.filter.h_freq = {h_freq} Hz (aliasing)"
        )
    return CausalResampler(stream_sfreq, spec.sfreq, len(spec.channels))


class StreamDSP:
    """Filters, resampler and ring buffers of one EEG stream's current segment (module docstring).

    Parameters
    ----------
    spec
        The model's input definition (channels, rate, filters, window length).
    stream_sfreq
        The stream's rate, Hz.
    raw_limit
        A raw sample with ``|x|`` above this (V) is invalid.
    stats
        Counters to update (``invalid_samples``, ``filter_resets``).
    """

    def __init__(self, spec: LiveSpec, stream_sfreq: float, raw_limit: float, stats: PipelineStats) -> None:
        self.n_channels = len(spec.channels)
        self.n_window = spec.n_window
        self.raw_limit = raw_limit
        self.stats = stats
        self.resampler = make_resampler(spec, stream_sfreq)
        self.filter = CausalFilter(design_filters(spec.filter, stream_sfreq), self.n_channels)
        self.warmup = self._warmup_samples()
        up, down = self.ratio
        # Input pieces of 4 s; the buffers hold a piece plus a window at each rate, so a large backlog
        # cannot overwrite samples that a window of the same call still needs.
        self.piece = max(1, int(4 * stream_sfreq))
        out_capacity = self.n_window + self.piece * up // down + 2
        in_capacity = -(-self.n_window * down // up) + self.piece + 2
        self._filtered = RingBuffer(self.n_channels, out_capacity)
        self._invalid = RingBuffer(self.n_channels, in_capacity, dtype=np.bool_)
        self._raw = RingBuffer(self.n_channels, in_capacity)
        self._hold = np.zeros(self.n_channels)
        self._held = np.zeros(self.n_channels, dtype=bool)
        self.seg_in = 0
        self.seg_samples = 0

    @property
    def ratio(self) -> tuple[int, int]:
        """``(up, down)`` from the stream's rate to the model's."""
        return (1, 1) if self.resampler is None else (self.resampler.up, self.resampler.down)

    def _warmup_samples(self) -> int:
        """Model-rate samples of a segment that still ring from the zero state of the filters and the resampler."""
        ringing = self.filter.warmup_samples()
        if self.resampler is None:
            return ringing
        r = self.resampler
        return -(-(ringing * r.up + 2 * r.half_len) // r.down)

    def reset(self) -> None:
        """Start a segment: zero filter and resampler state, no samples in it yet."""
        self.filter.reset()
        if self.resampler is not None:
            self.resampler.reset()
        self.seg_in = 0
        self.seg_samples = 0
        self._held[:] = False

    def push(self, x: np.ndarray, t: np.ndarray) -> None:
        """Process ``x`` ``(n_samples, n_channels)`` in volts stamped ``t`` ``(n_samples,)`` s (non-decreasing)."""
        invalid = ~np.isfinite(x)
        with np.errstate(invalid="ignore"):
            invalid |= np.abs(np.where(invalid, 0.0, x)) > self.raw_limit
        if invalid.any():
            self.stats.invalid_samples += int(invalid.sum())
        filtered = self._filter(x, invalid)
        self._invalid.append(invalid, t)
        self._raw.append(x, t)
        self.seg_in += len(t)
        if self.resampler is not None:
            filtered, t = self.resampler(filtered, t)
        self._filtered.append(filtered.T, t)
        self.seg_samples += len(t)

    # -- the segment's windows -------------------------------------------------------

    def _window_span(self, start: int) -> tuple[int, int]:
        """Absolute filtered-sample range of the window starting at model-rate sample ``start`` of the segment."""
        a = self._filtered.count - self.seg_samples + start
        return a, a + self.n_window

    def first_stamp(self, start: int) -> float:
        """LSL stamp of the first sample of the window starting at ``start``, s."""
        a, _ = self._window_span(start)
        return float(self._filtered.stamps(a, a + 1)[0])

    def last_stamp(self, start: int) -> float:
        """LSL stamp of the last sample of the window starting at ``start``, s."""
        _, b = self._window_span(start)
        return float(self._filtered.stamps(b - 1, b)[0])

    def signals(self, starts: list[int]) -> np.ndarray:
        """The filtered windows starting at ``starts``: ``(n_windows, n_channels, n_window)`` in volts."""
        return np.stack([self._filtered.get(*self._window_span(start)).T for start in starts])

    def raw_span(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw samples ``(n, n_channels)`` (V) and invalid flags of the window starting at ``start``.

        They are the stream's samples (at its rate) whose positions lie within
        the window's span.
        """
        up, down = self.ratio
        origin = self._raw.count - self.seg_in  # absolute count of the segment's first input sample
        lo = origin - (-start * down // up)
        hi = origin + (start + self.n_window - 1) * down // up + 1
        return self._raw.get(lo, hi), self._invalid.get(lo, hi)

    # -- filtering -----------------------------------------------------------------

    def _filter(self, x: np.ndarray, invalid: np.ndarray) -> np.ndarray:
        """Filter ``x`` ``(n_samples, n_channels)`` -> ``(n_channels, n_samples)``, invalid samples held.

        An invalid sample is replaced by its channel's last valid value, so the
        filter sees a constant. Where a channel's invalid run ends, its state
        is set to the steady state of the first valid value before it is
        filtered, so a changed DC level after a dropout does not ring.
        """
        if not invalid.any() and not self._held.any():
            self._hold = x[-1].copy()
            out = self.filter(x.T)
            self._check_state()
            return out
        clean = x.copy()
        for ch in np.flatnonzero(invalid.any(axis=0)):
            bad = invalid[:, ch]
            last_good = np.maximum.accumulate(np.where(~bad, np.arange(len(bad)), -1))
            fill = np.where(last_good >= 0, x[np.maximum(last_good, 0), ch], self._hold[ch])
            clean[bad, ch] = fill[bad]
        was_bad = np.vstack([self._held[None, :], invalid])
        ends = was_bad[:-1] & ~was_bad[1:]  # (n_samples, n_channels): run ended just before sample i
        cuts = np.flatnonzero(ends.any(axis=1))
        pieces = []
        lo = 0
        for cut in (*cuts.tolist(), len(x)):
            if cut > lo:
                pieces.append(self.filter(clean[lo:cut].T))
            if cut < len(x):
                self.filter.settle(ends[cut], clean[cut])
                self.stats.filter_resets += int(ends[cut].sum())
            lo = cut
        self._held = invalid[-1].copy()
        self._hold = clean[-1].copy()
        self._check_state()
        return np.concatenate(pieces, axis=1)

    def _check_state(self) -> None:
        bad_state = ~self.filter.state_finite()
        if bad_state.any():
            self.stats.filter_resets += int(bad_state.sum())
            self.filter.settle(bad_state, self._hold)
