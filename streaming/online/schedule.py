"""Window scheduling of a live stream: stamp checks, segments, which windows are due, lag skipping.

* **time stamps**: a duplicate or slightly out-of-order stamp (within
  ``gap_tolerance``) keeps its sample, in arrival order, and the stamps are
  made non-decreasing; a jump forward beyond ``gap_tolerance`` (lost
  samples, a stall) or backward (a clock reset) ends the segment, so no
  window spans a discontinuity, and a ``gap``/``clock_jump`` event says so;
* **windows** of ``length`` seconds every ``hop`` seconds, window *k* of a
  segment starting at sample ``round(k * hop * sfreq)`` (model rate) as in
  :func:`biosig.preprocess.windows.window_indices`;
* **lag**: with ``max_lag`` set, windows ending more than ``max_lag`` seconds
  before the newest sample are skipped (the filters still see every sample),
  so a slow model cannot make the output fall further and further behind.
"""

from __future__ import annotations

import math

import numpy as np

from streaming.buffer import Event
from streaming.model_io import LiveSpec
from streaming.online.results import PipelineStats


class WindowSchedule:
    """Stamps, segments and window numbers of one stream (module docstring).

    Parameters
    ----------
    spec
        The model's input definition (window length and hop, rate).
    stream_sfreq
        The stream's rate, Hz.
    gap_tolerance
        Largest step between consecutive stamps (s) beyond the sampling period
        that still counts as continuous; a backward step this large is a clock jump.
    max_lag
        Skip windows ending more than this many seconds before the newest sample (None: never).
    stats
        Counters to update (stamps, segments, skipped windows).
    """

    def __init__(
        self, spec: LiveSpec, stream_sfreq: float, gap_tolerance: float, max_lag: float | None, stats: PipelineStats
    ) -> None:
        self.spec = spec
        self.n_window = spec.n_window
        self.stream_sfreq = stream_sfreq
        self.gap_tolerance = gap_tolerance
        self.max_lag = max_lag
        self.stats = stats
        self.segment = -1
        self.next_window = 0
        self.window_index = 0
        self.newest = -math.inf
        self._last_stamp: float | None = None
        self._last_out_stamp = -math.inf

    def start_segment(self) -> None:
        """A new segment: its windows count from 0."""
        self.segment += 1
        self.stats.segments += 1
        self.next_window = 0

    def forget_stamp(self) -> None:
        """The stream was lost: the next stamp is not compared with the last one."""
        self._last_stamp = None

    def breaks(self, t: np.ndarray) -> list[tuple[int, Event]]:
        """Where the chunk ``t`` (s) breaks (index of the first sample after each break) and why; counts small disorder."""
        period = 1.0 / self.stream_sfreq
        prev = self._last_stamp
        steps = np.diff(t, prepend=t[0] if prev is None else prev)
        if prev is None:
            steps[0] = period
        breaks: list[tuple[int, Event]] = []
        for i in np.flatnonzero((steps > period + self.gap_tolerance) | (steps <= -self.gap_tolerance)):
            before = t[i - 1] if i else prev
            if steps[i] > 0:
                self.stats.gaps += 1
                kind = "gap"
            else:
                self.stats.clock_jumps += 1
                kind = "clock_jump"
            detail = {"from": float(before), "to": float(t[i]), "jump_s": float(steps[i])}
            breaks.append((int(i), Event(kind, float(t[i]), detail)))
        # Disorder smaller than the tolerance: the samples are kept in arrival order. A step within 1 % of a
        # period of zero is a duplicate (clock correction may move a repeated stamp by microseconds).
        small = steps > -self.gap_tolerance
        self.stats.duplicate_stamps += int(np.count_nonzero(small & (np.abs(steps) <= 0.01 * period)))
        self.stats.out_of_order_stamps += int(np.count_nonzero(small & (steps < -0.01 * period)))
        self._last_stamp = float(t[-1])
        return breaks

    def monotonic(self, t: np.ndarray, restart: bool) -> np.ndarray:
        """Stamps made non-decreasing (small disorder only; large steps already ended the segment).

        ``restart``: the first stamps of a segment, not held back by the previous segment's.
        """
        floor = -math.inf if restart else self._last_out_stamp
        out = np.maximum.accumulate(np.maximum(t, floor))
        self._last_out_stamp = float(out[-1])
        return out

    def due(self, seg_samples: int) -> list[tuple[int, int]]:
        """The windows completed by the segment's ``seg_samples`` model-rate samples: ``(k, first sample)`` each."""
        due = []
        while True:
            start = int(round(self.next_window * self.spec.window.hop * self.spec.sfreq))
            if start + self.n_window > seg_samples:
                break
            due.append((self.next_window, start))
            self.next_window += 1
        return due

    def lagging(self, t_last: float) -> bool:
        """Whether a window whose last stamp is ``t_last`` (s) is too far behind the newest sample (counted as skipped)."""
        if self.max_lag is not None and self.newest - t_last > self.max_lag:
            self.stats.skipped_windows += 1
            return True
        return False
