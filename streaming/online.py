"""The online pipeline: the offline preprocessing and features, causal and one chunk at a time.

:class:`OnlinePipeline` takes chunks of one EEG stream ``(n_samples,
n_channels)`` in volts with their LSL time stamps and returns one
:class:`WindowResult` per completed window. It does what the offline pipeline
does with ``FilterConfig(method="iir", causal=True)``, so that on clean data
both give the same numbers (``tests/test_stream_parity.py``):

1. **filters**: the notch and band-pass second-order sections that MNE
   designs for :func:`biosig.preprocess.eeg.apply_filters` (``create_filter``
   with the same arguments as ``Raw.notch_filter``/``Raw.filter``), run as one
   ``scipy.signal.sosfilt`` cascade whose state ``zi`` is carried from chunk
   to chunk: MNE filters a recording forward from a zero state, so the online
   output equals the offline one sample for sample;
2. **re-reference** (average or named channels), per sample, as MNE's
   ``set_eeg_reference(projection=False)``;
3. **windows** of ``length`` seconds every ``hop`` seconds, window *k* of a
   segment starting at sample ``round(k * hop * sfreq)`` as in
   :func:`biosig.preprocess.windows.window_indices`; each carries the LSL
   stamps of its first and last samples;
4. **features** with :mod:`biosig.features.eeg` (band power, differential
   entropy, frontal asymmetry) and the **model** through
   :func:`graphs.models.predict`.

Bad-channel interpolation, resampling and ICA of the offline pipeline are not
done live (they need the whole recording); the stream must come at the
model's rate.

Faults (each counted in :class:`PipelineStats`):

* **signal quality index** per window: a channel is bad in a window when it
  holds a non-finite or out-of-range sample (``|x| > raw_limit``), is flat
  (peak-to-peak below ``flat_ptp``) or its filtered amplitude exceeds
  ``max_abs``; ``quality`` is the fraction of good channels, 0 while the
  filters warm up (MNE's :func:`~mne.filter.estimate_ringing_samples` of
  the cascade after each (re)start). A window below ``min_quality`` gets no
  prediction (NaN) and the first of a run raises a ``bad_window`` event;
* **invalid samples** (NaN, inf, out of range) never reach the filter: the
  channel's last valid value is held instead, so the state stays finite and
  the channel recovers as soon as valid samples return; a state that is not
  finite anyway is reset to the steady state of the current input;
* **time stamps**: a duplicate or slightly out-of-order stamp (within
  ``gap_tolerance``) keeps its sample, in arrival order, and the stamps are
  made non-decreasing; a jump
  forward beyond ``gap_tolerance`` (lost samples, a stall) or backward (a
  clock reset) ends the segment: filters and windows restart, so no window
  spans a discontinuity, and a ``gap``/``clock_jump`` event says so;
* **lag**: with ``max_lag`` set, windows ending more than ``max_lag`` seconds
  before the newest sample are skipped (the filters still see every sample),
  so a slow model cannot make the output fall further and further behind.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import mne
import numpy as np
import scipy.signal
import torch

from biosig.config import FilterConfig
from biosig.errors import ConfigError, DataError
from biosig.features.eeg import band_power, differential_entropy, frontal_asymmetry
from biosig.preprocess.eeg import filter_kwargs
from graphs.models import predict
from streaming.buffer import Event, RingBuffer
from streaming.model_io import LIVE_TARGETS, LiveModel, LiveSpec


def design_filters(cfg: FilterConfig | None, sfreq: float) -> np.ndarray:
    """The causal filter cascade of ``cfg`` at ``sfreq`` as second-order sections ``(n_sections, 6)``.

    The sections are MNE's own (:func:`mne.filter.create_filter`), designed
    with the arguments that :func:`biosig.preprocess.eeg.apply_filters`
    passes to ``Raw.notch_filter`` and ``Raw.filter``: notch first, then the
    band-pass. An empty ``(0, 6)`` array means no filtering.

    Raises
    ------
    ConfigError
        The filter is not causal IIR (``method: iir``, ``causal: true``), or
        the notch needs several stop bands (MNE's IIR notch takes one).
    DataError
        A filter edge is at or above the Nyquist frequency.
    """
    if cfg is None:
        return np.zeros((0, 6))
    if cfg.method != "iir" or not cfg.causal:
        raise ConfigError(
            f"the live pipeline filters causally with IIR filters; the model's preprocess.filter has method "
            f"{cfg.method!r} and causal {cfg.causal} (train with method: iir, causal: true)"
        )
    nyquist = sfreq / 2.0
    for name, value in (("h_freq", cfg.h_freq), ("l_freq", cfg.l_freq)):
        if value is not None and value >= nyquist:
            raise DataError(f"preprocess.filter.{name} = {value} Hz is not below the Nyquist frequency {nyquist} Hz")
    kwargs = filter_kwargs(cfg)
    sections = []
    if cfg.line_freq is not None:
        # The notch frequencies of apply_filters (line frequency and harmonics
        # below the pass band's top); tests/test_stream_online.py checks both agree.
        top = min(nyquist, cfg.h_freq + cfg.line_freq / 2 if cfg.h_freq is not None else nyquist)
        freqs = np.arange(cfg.line_freq, top, cfg.line_freq)
        freqs = freqs[freqs < nyquist - 1.0]
        if freqs.size > 1:
            raise ConfigError(
                f"notch at {freqs.tolist()} Hz: MNE's IIR notch takes one stop band; set preprocess.filter.h_freq "
                f"below {freqs[1] - cfg.line_freq / 2} Hz or line_freq: null"
            )
        if freqs.size:
            # Raw.notch_filter's defaults: stop band freq / 200 wide, 1 Hz transition bands.
            freq, width, half_trans = float(freqs[0]), float(freqs[0]) / 200.0, 0.5
            notch = mne.filter.create_filter(
                None, sfreq, freq + width / 2 + half_trans, freq - width / 2 - half_trans,
                l_trans_bandwidth=half_trans, h_trans_bandwidth=half_trans, method="iir",
                iir_params=dict(kwargs["iir_params"]), phase=kwargs["phase"], verbose="error",
            )  # fmt: skip
            sections.append(notch["sos"])
    if cfg.l_freq is not None or cfg.h_freq is not None:
        band = mne.filter.create_filter(
            None, sfreq, cfg.l_freq, cfg.h_freq, method="iir", iir_params=dict(kwargs["iir_params"]),
            phase=kwargs["phase"], verbose="error",
        )  # fmt: skip
        sections.append(band["sos"])
    return np.vstack(sections) if sections else np.zeros((0, 6))


class CausalFilter:
    """A second-order-section cascade applied chunk by chunk to ``(n_channels, n_times)`` data.

    The state starts at zero, as MNE's forward filtering does, so the output
    of consecutive chunks equals ``scipy.signal.sosfilt`` over their
    concatenation.
    """

    def __init__(self, sos: np.ndarray, n_channels: int) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self.n_channels = n_channels
        self._zi = np.zeros((len(self.sos), n_channels, 2))
        self._step_zi = scipy.signal.sosfilt_zi(self.sos) if len(self.sos) else np.zeros((0, 2))

    @property
    def n_sections(self) -> int:
        """Second-order sections in the cascade (0: pass-through)."""
        return len(self.sos)

    def warmup_samples(self) -> int:
        """Samples until the impulse response falls below 0.1 % of its peak (MNE's estimate)."""
        if not self.n_sections:
            return 0
        return int(mne.filter.estimate_ringing_samples(self.sos))

    def reset(self) -> None:
        """Back to the zero state (a new segment)."""
        self._zi[:] = 0.0

    def settle(self, channels: np.ndarray, level: np.ndarray) -> None:
        """Put ``channels`` (bool mask) in the steady state of a constant input at ``level`` (volts)."""
        if self.n_sections:
            self._zi[:, channels, :] = self._step_zi[:, None, :] * level[channels][None, :, None]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` ``(n_channels, n_times)``, carrying the state to the next call."""
        if not self.n_sections:
            return np.array(x, dtype=np.float64)
        out, self._zi = scipy.signal.sosfilt(self.sos, x, axis=-1, zi=self._zi)
        return out

    def state_finite(self) -> np.ndarray:
        """Per channel, whether the filter state is finite, ``(n_channels,)``."""
        return np.isfinite(self._zi).all(axis=(0, 2))


@dataclass(frozen=True)
class QualityConfig:
    """Signal-quality thresholds (SI units) and the smallest quality that still gets a prediction.

    Attributes
    ----------
    raw_limit
        A raw sample with ``|x|`` above this (V) is invalid, like NaN/inf (an
        amplifier out of range, a corrupt packet); 0.1 V is above any EEG
        amplifier's DC offset.
    flat_ptp
        A channel whose raw peak-to-peak in the window is below this (V) is flat.
    max_abs
        A channel whose filtered amplitude in the window exceeds this (V) is
        an artefact (electrode pop, movement).
    min_quality
        Windows with a smaller fraction of good channels get NaN predictions.
    """

    raw_limit: float = 0.1
    flat_ptp: float = 1e-7
    max_abs: float = 500e-6
    min_quality: float = 1.0


@dataclass
class PipelineStats:
    """Counters of one pipeline run (all since the start)."""

    samples: int = 0
    chunks: int = 0
    windows: int = 0
    predictions: int = 0
    low_quality_windows: int = 0
    skipped_windows: int = 0
    segments: int = 0
    gaps: int = 0
    clock_jumps: int = 0
    duplicate_stamps: int = 0
    out_of_order_stamps: int = 0
    invalid_samples: int = 0
    filter_resets: int = 0
    compute_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain mapping."""
        return asdict(self)


@dataclass(frozen=True)
class WindowResult:
    """One window of the live pipeline and its prediction.

    Attributes
    ----------
    index
        Window number since the pipeline started (over all segments).
    segment
        Continuous-data segment the window lies in (a discontinuity starts a new one).
    t_first, t_last
        LSL stamps of the window's first and last samples, s.
    values
        ``{"valence", "arousal", "valence_confidence", "arousal_confidence"}``:
        expected rating and largest class probability; NaN when the window is
        of low quality or no model predicts the target (regression models give
        no confidence).
    quality
        Fraction of good channels in [0, 1] (0 during filter warm-up).
    reasons
        Why channels (or the window) are bad, e.g. ``("flat: O2",)``.
    predicted
        Whether the window's quality reached ``min_quality`` so the models ran.
    features
        ``band_power`` (n_channels, n_bands) V², ``de`` (n_channels, n_bands)
        nats, ``faa`` (n_pairs,) when the asymmetry channels are present.
    signal
        The filtered, re-referenced window ``(n_channels, n_times)`` in volts
        when the pipeline keeps signals (tests, diagnostics), else None.
    """

    index: int
    segment: int
    t_first: float
    t_last: float
    values: dict[str, float]
    quality: float
    reasons: tuple[str, ...] = ()
    features: dict[str, np.ndarray] = field(default_factory=dict)
    predicted: bool = False
    signal: np.ndarray | None = None


@dataclass
class Step:
    """What one call of :meth:`OnlinePipeline.process` produced."""

    windows: list[WindowResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class OnlinePipeline:
    """Causal preprocessing, windows, features and predictions of one EEG stream (module docstring).

    Parameters
    ----------
    model
        The models and their input definition.
    quality
        Signal-quality thresholds.
    gap_tolerance
        Largest step between consecutive stamps (s) that still counts as
        continuous, beyond the sampling period; a backward step this large is
        a clock jump.
    max_lag
        Skip windows ending more than this many seconds before the newest
        sample (None: compute every window, e.g. to compare with offline).
    keep_signals
        Keep each window's filtered signal in its result.
    """

    def __init__(
        self,
        model: LiveModel,
        quality: QualityConfig | None = None,
        gap_tolerance: float = 0.1,
        max_lag: float | None = 1.0,
        keep_signals: bool = False,
    ) -> None:
        self.model = model
        self.spec: LiveSpec = model.spec
        self.quality = quality or QualityConfig()
        self.gap_tolerance = float(gap_tolerance)
        self.max_lag = max_lag
        self.keep_signals = keep_signals
        spec = self.spec
        self.n_channels = len(spec.channels)
        self.n_window = spec.n_window
        if self.n_window < 2:
            raise ConfigError(f"window.length {spec.window.length} s is shorter than two samples at {spec.sfreq} Hz")
        self.filter = CausalFilter(design_filters(spec.filter, spec.sfreq), self.n_channels)
        self.warmup = self.filter.warmup_samples()
        self._ref_picks = self._reference_picks()
        self._bands = dict(spec.features.bands)
        self._faa_pairs = tuple(
            pair for pair in spec.features.asymmetry_pairs if all(ch in spec.channels for ch in pair)
        )
        self._faa_band = list(self._bands).index(spec.features.asymmetry_band)
        capacity = self.n_window + int(math.ceil(4 * spec.sfreq))
        self._filtered = RingBuffer(self.n_channels, capacity)
        self._invalid = RingBuffer(self.n_channels, capacity, dtype=np.bool_)
        self._raw = RingBuffer(self.n_channels, capacity)
        self.stats = PipelineStats()
        self._hold = np.zeros(self.n_channels)
        self._held = np.zeros(self.n_channels, dtype=bool)
        self._last_stamp: float | None = None
        self._last_out_stamp = -math.inf
        self._segment = -1
        self._next_window = 0
        self._window_index = 0
        self._low = False
        self._newest = -math.inf
        self._start_segment()

    # -- public -----------------------------------------------------------------

    def process(self, data: np.ndarray, stamps: np.ndarray) -> Step:
        """Feed one chunk; return the windows it completes and the events it caused.

        Parameters
        ----------
        data
            ``(n_samples, n_channels)`` in volts, channels in model order.
            NaN/inf allowed (flagged, never filtered).
        stamps
            ``(n_samples,)`` LSL time stamps in s.
        """
        x = np.asarray(data, dtype=np.float64)
        t = np.asarray(stamps, dtype=np.float64).reshape(-1)
        if x.ndim != 2 or x.shape[1] != self.n_channels or x.shape[0] != t.shape[0]:
            raise DataError(
                f"chunk of shape {x.shape} with {t.shape[0]} stamps; expected (n_samples, {self.n_channels}) "
                "with one stamp per sample"
            )
        step = Step()
        if not len(t):
            return step
        self.stats.chunks += 1
        self.stats.samples += len(t)
        self._newest = float(np.max(t))  # for max_lag: windows are judged against the whole chunk's newest sample
        start = 0
        for cut, event in self._discontinuities(t):
            self._ingest(x[start:cut], t[start:cut], step)
            step.events.append(event)
            self._start_segment()
            start = cut
        self._ingest(x[start:], t[start:], step)
        return step

    def restart(self) -> None:
        """End the current segment from outside (the stream was lost): filters and windows start afresh."""
        self._start_segment()
        self._last_stamp = None

    # -- segments and time stamps ----------------------------------------------

    def _start_segment(self) -> None:
        self.filter.reset()
        self._segment += 1
        self.stats.segments += 1
        self._seg_samples = 0
        self._next_window = 0
        self._held[:] = False

    def _discontinuities(self, t: np.ndarray) -> list[tuple[int, Event]]:
        """Where the chunk breaks (index of the first sample after each break) and why; counts small disorder."""
        period = 1.0 / self.spec.sfreq
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

    def _monotonic(self, t: np.ndarray, restart: bool) -> np.ndarray:
        """Stamps made non-decreasing (small disorder only; large steps already ended the segment)."""
        floor = -math.inf if restart else self._last_out_stamp
        out = np.maximum.accumulate(np.maximum(t, floor))
        self._last_out_stamp = float(out[-1])
        return out

    # -- samples ------------------------------------------------------------------

    def _ingest(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        # Pieces no longer than the ring buffers minus a window, so a large
        # backlog cannot overwrite samples a window of the same call still needs.
        piece = self._filtered.capacity - self.n_window
        for lo in range(0, len(t), piece):
            self._ingest_piece(x[lo : lo + piece], t[lo : lo + piece], step)

    def _ingest_piece(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        t = self._monotonic(t, restart=self._seg_samples == 0)
        invalid = ~np.isfinite(x)
        with np.errstate(invalid="ignore"):
            invalid |= np.abs(np.where(invalid, 0.0, x)) > self.quality.raw_limit
        if invalid.any():
            self.stats.invalid_samples += int(invalid.sum())
        filtered = self._filter(x, invalid)
        if self._ref_picks is not None:
            filtered -= filtered[self._ref_picks].mean(axis=0, keepdims=True)
        self._filtered.append(filtered.T, t)
        self._invalid.append(invalid, t)
        self._raw.append(x, t)
        self._seg_samples += len(t)
        due = []
        while True:
            start = int(round(self._next_window * self.spec.window.hop * self.spec.sfreq))
            if start + self.n_window > self._seg_samples:
                break
            due.append((self._next_window, start))
            self._next_window += 1
        if due:
            self._windows(due, step)

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

    def _reference_picks(self) -> list[int] | None:
        """Indices of the reference channels (their mean is subtracted from every channel), or None."""
        ref = self.spec.reference
        if ref is None:
            return None
        names = list(self.spec.channels)
        if ref == "average":
            return list(range(len(names)))
        missing = [ch for ch in ref if ch not in names]
        if missing:
            raise ConfigError(f"reference channels {missing} are not among the model's channels {names}")
        return [names.index(ch) for ch in ref]

    # -- windows --------------------------------------------------------------------

    def _windows(self, due: list[tuple[int, int]], step: Step) -> None:
        spec = self.spec
        newest = self._newest
        end_total = self._filtered.count
        seg_origin = end_total - self._seg_samples  # absolute count of the segment's first sample
        ready = []
        for k, start in due:
            a = seg_origin + start
            b = a + self.n_window
            t_last = float(self._filtered.stamps(b - 1, b)[0])
            if self.max_lag is not None and newest - t_last > self.max_lag:
                self.stats.skipped_windows += 1
                continue
            ready.append((k, start, a, b, t_last))
        if not ready:
            return
        t0 = time.perf_counter()
        signals = np.stack([self._filtered.get(a, b).T for _, _, a, b, _ in ready])
        raws = np.stack([self._raw.get(a, b).T for _, _, a, b, _ in ready])
        invalid = np.stack([self._invalid.get(a, b).T for _, _, a, b, _ in ready])
        quality, reasons = self._quality(signals, raws, invalid, [start for _, start, _, _, _ in ready])
        power = band_power(signals, spec.sfreq, self._bands, n_jobs=1)
        de = differential_entropy(power)
        faa = (
            frontal_asymmetry(power, spec.channels, self._faa_band, self._faa_pairs) if self._faa_pairs else None
        )
        good = quality >= self.quality.min_quality
        values = {name: np.full(len(ready), np.nan) for name in _value_names()}
        if good.any():
            self._predict(signals[good], power[good], values, np.flatnonzero(good))
        elapsed = time.perf_counter() - t0
        self.stats.compute_seconds += elapsed
        for i, (k, start, a, b, t_last) in enumerate(ready):
            features = {"band_power": power[i], "de": de[i]}
            if faa is not None:
                features["faa"] = faa[i]
            result = WindowResult(
                index=self._window_index,
                segment=self._segment,
                t_first=float(self._filtered.stamps(a, a + 1)[0]),
                t_last=t_last,
                values={name: float(values[name][i]) for name in values},
                quality=float(quality[i]),
                reasons=reasons[i],
                features=features,
                predicted=bool(good[i]),
                signal=signals[i] if self.keep_signals else None,
            )
            self._window_index += 1
            self.stats.windows += 1
            if good[i]:
                self.stats.predictions += 1
                if self._low:
                    self._low = False
                    step.events.append(Event("quality_restored", t_last, {"quality": result.quality}))
            else:
                self.stats.low_quality_windows += 1
                if not self._low:
                    self._low = True
                    step.events.append(
                        Event("bad_window", t_last, {"quality": result.quality, "reasons": list(result.reasons)})
                    )
            step.windows.append(result)

    def _quality(
        self, signals: np.ndarray, raws: np.ndarray, invalid: np.ndarray, starts: list[int]
    ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Fraction of good channels per window and the reasons.

        ``signals`` (filtered), ``raws`` and ``invalid`` (per-sample flags) are
        ``(n_windows, n_channels, n_times)``; ``starts`` are the windows' first
        samples within their segment.
        """
        q = self.quality
        ptp = np.where(invalid, -np.inf, raws).max(axis=2) - np.where(invalid, np.inf, raws).min(axis=2)
        invalid = invalid.any(axis=2)
        flat = ~invalid & (ptp < q.flat_ptp)
        huge = ~invalid & (np.abs(signals).max(axis=2) > q.max_abs)
        bad = invalid | flat | huge
        quality = 1.0 - bad.mean(axis=1)
        names = self.spec.channels
        reasons: list[tuple[str, ...]] = []
        for w, start in enumerate(starts):
            why = []
            if start < self.warmup:
                quality[w] = 0.0
                why.append("filter warm-up")
            for label, mask in (("invalid samples", invalid[w]), ("flat", flat[w]), ("amplitude", huge[w])):
                if mask.any():
                    why.append(f"{label}: " + ",".join(names[i] for i in np.flatnonzero(mask)))
            reasons.append(tuple(why))
        return quality, reasons

    def _predict(
        self, signals: np.ndarray, power: np.ndarray, values: dict[str, np.ndarray], rows: np.ndarray
    ) -> None:
        """Fill ``values`` at ``rows`` from the models.

        ``signals`` ``(n, n_channels, n_times)`` in volts and their band
        power ``(n, n_channels, n_bands)`` in V².
        """
        spec = self.spec
        if spec.offset is not None or spec.scale is not None:
            offset = np.zeros(self.n_channels) if spec.offset is None else spec.offset
            scale = np.ones(self.n_channels) if spec.scale is None else spec.scale
            signals = (signals - offset[None, :, None]) / scale[None, :, None]
            # Welch removes each segment's mean, so the offset leaves band power as it is and the
            # scale divides it by scale²: no second PSD of the normalised window is needed.
            power = power / (scale**2)[None, :, None]
        inputs = {
            "raw": lambda: torch.from_numpy(np.ascontiguousarray(signals, dtype=np.float32)),
            "de": lambda: torch.from_numpy(np.ascontiguousarray(differential_entropy(power), dtype=np.float32)),
        }
        for entry in self.model.models:
            out = predict(entry.model, inputs[entry.input](), entry.scale)
            if entry.scale is not None:
                target = entry.targets[0]
                values[target][rows] = out.expected
                values[f"{target}_confidence"][rows] = out.probabilities.max(axis=1)
            else:
                expected = out.expected.reshape(len(rows), -1)
                for j, target in enumerate(entry.targets):
                    values[target][rows] = expected[:, j]


def _value_names() -> tuple[str, ...]:
    return (*LIVE_TARGETS, *(f"{t}_confidence" for t in LIVE_TARGETS))
