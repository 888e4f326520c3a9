"""The online pipeline: the offline preprocessing and features, causal and one chunk at a time.

:class:`OnlinePipeline` takes chunks of one EEG stream ``(n_samples,
n_channels)`` in volts with their LSL time stamps, and optionally ECG/EDA
samples with theirs (:meth:`OnlinePipeline.add_peripheral`), and returns one
:class:`WindowResult` per completed window. It does what the offline pipeline
(:func:`biosig.preprocess.eeg.preprocess_eeg`) does with
``FilterConfig(method="iir", causal=True)`` and causal resampling
(:func:`biosig.preprocess.resample.resample_raw_causal`), so that on clean data both
give the same numbers (``tests/test_stream_parity.py``,
``tests/test_online_resample.py``, ``tests/test_online_spatial.py``).

Offline, the order is filter -> bad-channel interpolation -> re-reference ->
resample -> ICA. Live it is:

1. **filters** at the stream's rate: the notch and band-pass second-order
   sections that MNE designs for :func:`biosig.preprocess.eeg.apply_filters`
   (``create_filter`` with the same arguments as
   ``Raw.notch_filter``/``Raw.filter``), run as one ``scipy.signal.sosfilt``
   cascade whose state ``zi`` is carried from chunk to chunk: MNE filters a
   recording forward from a zero state, so the online output equals the
   offline one sample for sample;
2. **resampling** to the model's rate when the stream's differs (a 512 Hz
   amplifier, a 128 Hz model): :class:`biosig.preprocess.resample.CausalResampler`,
   SciPy's ``resample_poly`` filter run causally with its state carried
   across chunks; resampled samples are stamped from the input stamps (see
   :mod:`biosig.preprocess.resample`);
3. **windows** of ``length`` seconds every ``hop`` seconds, window *k* of a
   segment starting at sample ``round(k * hop * sfreq)`` (model rate) as in
   :func:`biosig.preprocess.windows.window_indices`; each carries the LSL
   stamps of its first and last samples;
4. per window, one map over channels (:mod:`streaming.spatial`, matrices
   taken from MNE and cached per set of bad channels): **bad-channel
   interpolation** (MNE's spherical splines from the good channels, positions
   from the montage) of the channels the quality check found bad, in the
   windows whose quality reaches ``min_quality``; **re-reference** (average
   or named channels, as MNE's ``set_eeg_reference(projection=False)``); and a
   fixed **ICA** cleaning fitted offline
   (:func:`streaming.spatial.fit_live_ica`), MNE's ``ICA.apply`` as the affine
   map it is. Resampling runs the same linear filter on every channel, so it
   commutes with these maps: applying them after it gives the numbers of the
   offline order, and lets the interpolation follow each window's quality;
5. **features** with :mod:`biosig.features.eeg` (band power, differential
   entropy, frontal asymmetry), and with :mod:`biosig.features.peripheral`
   (heart rate and HRV, tonic EDA and SCRs) over the trailing
   ``peripheral_seconds`` of each ECG/EDA stream ending with the window (its
   last stamp plus one sample period, on the LSL clock), cut as
   :mod:`graphs.training.windows_dataset` cuts it offline
   (:func:`trailing_span`); then the **model** through
   :func:`graphs.models.predict`. A model with peripheral nodes (config
   ``peripheral``, e.g. ``{ecg: 4, eda: 3}``) also gets those features,
   columns node by node (NaN = missing), minus the spec's
   ``peripheral_offset``: offline training subtracts each trial's baseline
   level, live the calibration rest's level stands in
   (:mod:`streaming.calibrate`); the span is the one the model was trained
   on (``LiveSpec.peripheral_seconds``). A classifier's value is its
   expected rating over ``scale`` and its confidence the largest class
   probability; a regression model's value is its output mapped back to the
   rating scale (``TargetModel.ratings``) and its confidence NaN (it gives
   no probability).

Faults (each counted in :class:`PipelineStats`):

* **signal quality index** per window: a channel is bad in a window when one
  of its raw samples in the window's span (at the stream's rate) is
  non-finite or out of range (``|x| > raw_limit``), when it is flat (raw
  peak-to-peak below ``flat_ptp``) or when its filtered amplitude, before
  re-referencing (so that one channel's artefact does not reach the others
  through an average reference), exceeds ``max_abs``; ``quality`` is the
  fraction of good channels, 0 while the filters warm up (MNE's
  :func:`~mne.filter.estimate_ringing_samples` of the cascade after each
  (re)start, plus the resampler's filter length). A window below
  ``min_quality`` gets no prediction (NaN), keeps its bad channels as they
  are (its features show the fault) and the first of a run raises a
  ``bad_window`` event;
* **invalid samples** (NaN, inf, out of range) never reach the filter: the
  channel's last valid value is held instead, so the state stays finite and
  the channel recovers as soon as valid samples return; a state that is not
  finite anyway is reset to the steady state of the current input;
* **time stamps**: a duplicate or slightly out-of-order stamp (within
  ``gap_tolerance``) keeps its sample, in arrival order, and the stamps are
  made non-decreasing; a jump
  forward beyond ``gap_tolerance`` (lost samples, a stall) or backward (a
  clock reset) ends the segment: filters, resampler and windows restart, so
  no window spans a discontinuity, and a ``gap``/``clock_jump`` event says so;
* **lag**: with ``max_lag`` set, windows ending more than ``max_lag`` seconds
  before the newest sample are skipped (the filters still see every sample),
  so a slow model cannot make the output fall further and further behind;
* **peripheral streams**: a span not yet full, interrupted, or not reaching
  the window's end (the stream lags or was lost) gives NaN features, as does
  a span the feature functions cannot use (NaN samples, a flat signal, too
  few beats).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mne
import numpy as np
import torch

from biosig.errors import ConfigError, DataError
from biosig.features.eeg import band_power, differential_entropy, frontal_asymmetry
from biosig.features.peripheral import ecg_window_features, eda_window_features
from biosig.preprocess.causal import CausalFilter, design_filters
from biosig.preprocess.resample import CausalResampler
from graphs.models import predict
from graphs.positions import TEMPLATE
from streaming.buffer import Event, RingBuffer
from streaming.model_io import LIVE_TARGETS, PERIPHERAL_FEATURES, LiveModel, LiveSpec, peripheral_nodes
from streaming.spatial import AffineMap, BadChannelInterpolator, channel_map, ica_map, load_ica, reference_picks

_FEATURE_FUNCTIONS = {"ecg": ecg_window_features, "eda": eda_window_features}

# Peripheral history kept beyond one span, s: windows computed late from an EEG backlog still find theirs.
_PERIPHERAL_SLACK_S = 30.0


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
        A channel whose filtered amplitude in the window, before
        re-referencing, exceeds this (V) is an artefact (electrode pop, movement).
    min_quality
        Windows with a smaller fraction of good channels get NaN predictions;
        in the others, bad channels are interpolated (when the pipeline
        interpolates). 1 - ``preprocess.bad_channels.max_fraction`` (0.75)
        predicts where the offline pipeline would still interpolate.
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
    interpolated_windows: int = 0
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
        expected rating and largest class probability (classifiers), or the
        predicted rating and NaN (regression models give no confidence); NaN
        when the window is of low quality or no model predicts the target.
    quality
        Fraction of good channels in [0, 1] (0 during filter warm-up).
    reasons
        Why channels (or the window) are bad, e.g. ``("flat: O2",)``; bad
        channels are named here even when they were interpolated.
    predicted
        Whether the window's quality reached ``min_quality`` so the models ran.
    features
        ``band_power`` (n_channels, n_bands) V², ``de`` (n_channels, n_bands)
        nats, ``faa`` (n_pairs,) when the asymmetry channels are present; for
        each peripheral stream, ``ecg`` (4,) and/or ``eda`` (3,) in the order of
        :data:`PERIPHERAL_FEATURES` (units of :mod:`biosig.features.peripheral`:
        bpm, ms, µS, counts), NaN when the span is unusable, and ``ecg_span``/
        ``eda_span`` (2,): LSL stamps of the first and last samples used, s
        (NaN when none).
    signal
        The window the models see before normalisation ``(n_channels,
        n_times)`` in volts (filtered, resampled, bad channels interpolated,
        re-referenced, ICA-cleaned) when the pipeline keeps signals (tests,
        diagnostics), else None.
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


def trailing_span(stamps: np.ndarray, t_end: float, seconds: float, sfreq: float, tolerance: float) -> slice | None:
    """The samples of a peripheral stream over the ``seconds`` before ``t_end``, or None when unusable.

    The span is ``[t_end - seconds, t_end)`` cut as the offline pipeline cuts
    it (:mod:`graphs.training.windows_dataset`: first sample ``round((t_end -
    seconds) * sfreq)`` of a stream starting at 0 s, ``n = round(seconds *
    sfreq)`` samples): the ``n`` consecutive samples ending with the last one
    stamped at or before ``t_end - 0.5 / sfreq``. The live pipeline passes the
    EEG window's end, its last stamp plus one sample period at the model's
    rate, as the offline windows end at ``t_start + length``.

    Parameters
    ----------
    stamps
        The stream's held stamps ``(n_samples,)``, s, non-decreasing.
    t_end
        End of the span (exclusive), s, LSL clock.
    seconds
        Span length, s.
    sfreq
        The stream's nominal rate, Hz.
    tolerance
        Slack, s, for the two checks below (the pipeline's ``gap_tolerance``).

    Returns
    -------
    slice or None
        Indices into ``stamps``; None when fewer than ``n`` samples are held
        (not yet full), when the last one lies more than ``tolerance`` before
        where it should (``t_end - 1 / sfreq``, within half a period: the
        stream lags or was lost), or when the span lasts more than ``(n - 1) /
        sfreq + tolerance`` (a gap inside).
    """
    n = int(round(seconds * sfreq))
    half = 0.5 / sfreq
    stop = int(np.searchsorted(stamps, t_end - half, side="right"))
    if n < 1 or stop < n:
        return None
    first, last = stamps[stop - n], stamps[stop - 1]
    if last < t_end - 3 * half - tolerance or last - first > (n - 1) / sfreq + tolerance:
        return None
    return slice(stop - n, stop)


class PeripheralBuffer:
    """Recent samples of one peripheral signal (one channel) and its features over trailing spans.

    Parameters
    ----------
    kind
        ``"ecg"`` (volts) or ``"eda"`` (siemens).
    sfreq
        Nominal rate, Hz.
    seconds
        Span length, s.
    tolerance
        Slack for :func:`trailing_span`, s; a backward stamp step this large is a clock jump.
    history
        Seconds kept beyond one span, for spans ending in the past (windows
        computed late, a calibration's rest tiles).

    Raises
    ------
    ConfigError
        An unknown kind.
    DataError
        A span too short or a rate too low for the feature functions (their message).
    """

    def __init__(
        self, kind: str, sfreq: float, seconds: float, tolerance: float, history: float = _PERIPHERAL_SLACK_S
    ) -> None:
        if kind not in PERIPHERAL_FEATURES:
            raise ConfigError(f"peripheral stream kind {kind!r} is not one of {list(PERIPHERAL_FEATURES)}")
        self.kind = kind
        self.sfreq = float(sfreq)
        self.seconds = float(seconds)
        self.tolerance = float(tolerance)
        self.names = PERIPHERAL_FEATURES[kind]
        n = int(round(self.seconds * self.sfreq))
        # The feature functions check span length and rate themselves (DataError); a flat span answers
        # NaN without running NeuroKit2, so this makes a bad setting fail at start, not at every window.
        _FEATURE_FUNCTIONS[kind](np.zeros((1, max(n, 1))), self.sfreq)
        self._capacity = n + int(math.ceil(history * self.sfreq))
        self._buffer = RingBuffer(1, self._capacity)
        self._last = -math.inf

    def add(self, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Append ``samples`` ``(n,)`` (SI units) stamped ``stamps`` ``(n,)`` s.

        A backward step of the stamps beyond the tolerance (a new clock) drops
        what came before; smaller disorder is made non-decreasing.
        """
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        t = np.asarray(stamps, dtype=np.float64).reshape(-1)
        if x.shape != t.shape:
            raise DataError(f"{self.kind} chunk of {x.size} samples with {t.size} stamps")
        if not len(t):
            return
        jumps = np.flatnonzero(np.diff(t, prepend=self._last) <= -self.tolerance)
        if jumps.size:
            self._buffer = RingBuffer(1, self._capacity)
            self._last = -math.inf
            x, t = x[jumps[-1] :], t[jumps[-1] :]
        t = np.maximum.accumulate(np.maximum(t, self._last))
        self._buffer.append(x[:, None], t)
        self._last = float(t[-1])

    @property
    def newest(self) -> float:
        """Stamp of the newest sample held, s (-inf when none)."""
        return self._last

    def features(self, t_ends: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Features over the spans ending (exclusive) at ``t_ends`` (s): values ``(n, n_features)``, spans ``(n, 2)`` s.

        ``spans`` holds the stamps of the first and last samples used (NaN where :func:`trailing_span` is None).
        """
        values = np.full((len(t_ends), len(self.names)), np.nan)
        spans = np.full((len(t_ends), 2), np.nan)
        buffer = self._buffer
        stamps = buffer.stamps(buffer.oldest, buffer.count)
        data = buffer.get(buffer.oldest, buffer.count)[:, 0]
        rows, segments = [], []
        for i, t_end in enumerate(t_ends):
            span = trailing_span(stamps, t_end, self.seconds, self.sfreq, self.tolerance)
            if span is not None:
                rows.append(i)
                segments.append(data[span])
                spans[i] = stamps[span.start], stamps[span.stop - 1]
        if rows:
            out = _FEATURE_FUNCTIONS[self.kind](np.stack(segments), self.sfreq)
            values[rows] = np.column_stack([out[name] for name in self.names])
        return values, spans


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
        Keep each window's cleaned signal in its result.
    stream_sfreq
        The EEG stream's rate, Hz (default: the model's); another rate is
        resampled to the model's.
    interpolate
        Interpolate bad channels in the windows that get a prediction. None:
        when every channel has a position in ``montage``; True: required
        (:class:`DataError` naming the channels without a position).
    montage
        Electrode positions for the interpolation (as
        :func:`graphs.positions.electrode_positions`).
    ica
        A fitted ICA (its ``exclude`` list applied), or the path of one saved
        by MNE (``*-ica.fif``); None for no ICA.
    peripheral
        Rate (Hz) of each peripheral stream fed with :meth:`add_peripheral`,
        by kind: ``{"ecg": 256.0, "eda": 64.0}``; a model with peripheral nodes
        needs the streams its nodes name (:class:`ConfigError` otherwise).
    peripheral_seconds
        Length of the trailing span of the peripheral features, s; default:
        the model's (``spec.peripheral_seconds``), else 10 s. Another length
        than the model's is a :class:`ConfigError`.
    """

    def __init__(
        self,
        model: LiveModel,
        quality: QualityConfig | None = None,
        gap_tolerance: float = 0.1,
        max_lag: float | None = 1.0,
        keep_signals: bool = False,
        *,
        stream_sfreq: float | None = None,
        interpolate: bool | None = None,
        montage: str | mne.channels.DigMontage = TEMPLATE,
        ica: mne.preprocessing.ICA | str | Path | None = None,
        peripheral: Mapping[str, float] | None = None,
        peripheral_seconds: float | None = None,
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
        self.stream_sfreq = float(spec.sfreq if stream_sfreq is None else stream_sfreq)
        self.resampler = self._make_resampler()
        self.filter = CausalFilter(design_filters(spec.filter, self.stream_sfreq), self.n_channels)
        self.warmup = self._warmup_samples()
        self._ref_picks = reference_picks(spec.channels, spec.reference)
        self._interpolator = self._make_interpolator(interpolate, montage)
        source = str(ica) if isinstance(ica, str | Path) else "ICA"
        ica = load_ica(ica) if isinstance(ica, str | Path) else ica
        self._ica = None if ica is None else ica_map(ica, spec.channels, source)
        self._spatial = functools.lru_cache(maxsize=64)(self._spatial_map)
        self.peripheral_seconds = self._peripheral_seconds(peripheral_seconds)
        self.peripheral = {
            kind: PeripheralBuffer(kind, rate, self.peripheral_seconds, self.gap_tolerance)
            for kind, rate in (peripheral or {}).items()
        }
        self._check_peripheral_nodes()
        self._bands = dict(spec.features.bands)
        self._faa_pairs = tuple(
            pair for pair in spec.features.asymmetry_pairs if all(ch in spec.channels for ch in pair)
        )
        self._faa_band = list(self._bands).index(spec.features.asymmetry_band)
        up, down = self._ratio
        # Input pieces of 4 s; the buffers hold a piece plus a window at each rate, so a large backlog
        # cannot overwrite samples that a window of the same call still needs.
        self._piece = max(1, int(4 * self.stream_sfreq))
        out_capacity = self.n_window + self._piece * up // down + 2
        in_capacity = -(-self.n_window * down // up) + self._piece + 2
        self._filtered = RingBuffer(self.n_channels, out_capacity)
        self._invalid = RingBuffer(self.n_channels, in_capacity, dtype=np.bool_)
        self._raw = RingBuffer(self.n_channels, in_capacity)
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
            ``(n_samples, n_channels)`` in volts, channels in model order, at
            the stream's rate. NaN/inf allowed (flagged, never filtered).
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

    def add_peripheral(self, kind: str, samples: np.ndarray, stamps: np.ndarray) -> None:
        """Feed samples ``(n,)`` of a peripheral stream (ECG in volts, EDA in siemens) with their LSL stamps.

        Feed them before the EEG chunks whose windows need them: a window's
        span is taken when the window is computed.
        """
        if kind not in self.peripheral:
            raise ConfigError(f"no peripheral stream {kind!r}: the pipeline was given {list(self.peripheral)}")
        self.peripheral[kind].add(samples, stamps)

    def restart(self) -> None:
        """End the current segment from outside (the stream was lost): filters and windows start afresh."""
        self._start_segment()
        self._last_stamp = None

    # -- set-up -------------------------------------------------------------------

    @property
    def _ratio(self) -> tuple[int, int]:
        """``(up, down)`` from the stream's rate to the model's."""
        return (1, 1) if self.resampler is None else (self.resampler.up, self.resampler.down)

    def _peripheral_seconds(self, requested: float | None) -> float:
        """The ECG/EDA span, s: the model's unless asked otherwise (refused for a model with peripheral nodes)."""
        trained = self.spec.peripheral_seconds
        if requested is None:
            return 10.0 if trained is None else trained
        has_nodes = any(peripheral_nodes(e.model) for e in self.model.models)
        if trained is not None and abs(requested - trained) > 1e-9 and has_nodes:
            raise ConfigError(
                f"the model's ECG/EDA features span {trained:g} s (metadata peripheral.seconds); the pipeline was "
                f"asked for {requested:g} s (--peripheral-seconds): leave it out or give {trained:g}"
            )
        return float(requested)

    def _make_resampler(self) -> CausalResampler | None:
        spec = self.spec
        if abs(self.stream_sfreq - spec.sfreq) <= 1e-9 * spec.sfreq:
            return None
        h_freq = spec.filter.h_freq if spec.filter is not None else None
        if h_freq is not None and h_freq >= spec.sfreq / 2:
            raise DataError(
                f"the stream at {self.stream_sfreq:g} Hz is resampled to the model's {spec.sfreq:g} Hz, too low for "
                f"preprocess.filter.h_freq = {h_freq} Hz (aliasing)"
            )
        return CausalResampler(self.stream_sfreq, spec.sfreq, self.n_channels)

    def _warmup_samples(self) -> int:
        """Model-rate samples of a segment that still ring from the zero state of the filters and the resampler."""
        ringing = self.filter.warmup_samples()
        if self.resampler is None:
            return ringing
        r = self.resampler
        return -(-(ringing * r.up + 2 * r.half_len) // r.down)

    def _make_interpolator(
        self, interpolate: bool | None, montage: str | mne.channels.DigMontage
    ) -> BadChannelInterpolator | None:
        if interpolate is False:
            return None
        try:
            return BadChannelInterpolator(self.spec.channels, montage)
        except DataError:
            if interpolate:
                raise
            return None  # channels without positions: no interpolation unless asked for

    def _spatial_map(self, bad: tuple[int, ...]) -> AffineMap | None:
        """Interpolation of the channels ``bad``, re-reference and ICA as one map; None when it is the identity."""
        interpolation = self._interpolator.matrix(bad) if bad and self._interpolator is not None else None
        return channel_map(self.n_channels, interpolation, self._ref_picks, self._ica)

    # -- segments and time stamps ----------------------------------------------

    def _start_segment(self) -> None:
        self.filter.reset()
        if self.resampler is not None:
            self.resampler.reset()
        self._segment += 1
        self.stats.segments += 1
        self._seg_in = 0
        self._seg_samples = 0
        self._next_window = 0
        self._held[:] = False

    def _discontinuities(self, t: np.ndarray) -> list[tuple[int, Event]]:
        """Where the chunk breaks (index of the first sample after each break) and why; counts small disorder."""
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

    def _monotonic(self, t: np.ndarray, restart: bool) -> np.ndarray:
        """Stamps made non-decreasing (small disorder only; large steps already ended the segment)."""
        floor = -math.inf if restart else self._last_out_stamp
        out = np.maximum.accumulate(np.maximum(t, floor))
        self._last_out_stamp = float(out[-1])
        return out

    # -- samples ------------------------------------------------------------------

    def _ingest(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        for lo in range(0, len(t), self._piece):
            self._ingest_piece(x[lo : lo + self._piece], t[lo : lo + self._piece], step)

    def _ingest_piece(self, x: np.ndarray, t: np.ndarray, step: Step) -> None:
        t = self._monotonic(t, restart=self._seg_in == 0)
        invalid = ~np.isfinite(x)
        with np.errstate(invalid="ignore"):
            invalid |= np.abs(np.where(invalid, 0.0, x)) > self.quality.raw_limit
        if invalid.any():
            self.stats.invalid_samples += int(invalid.sum())
        filtered = self._filter(x, invalid)
        self._invalid.append(invalid, t)
        self._raw.append(x, t)
        self._seg_in += len(t)
        if self.resampler is not None:
            filtered, t = self.resampler(filtered, t)
        self._filtered.append(filtered.T, t)
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

    # -- windows --------------------------------------------------------------------

    def _windows(self, due: list[tuple[int, int]], step: Step) -> None:
        spec = self.spec
        newest = self._newest
        seg_origin = self._filtered.count - self._seg_samples  # absolute count of the segment's first sample
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
        starts = [start for _, start, _, _, _ in ready]
        signals = np.stack([self._filtered.get(a, b).T for _, _, a, b, _ in ready])
        ptp, invalid = self._raw_stats(starts)
        quality, reasons, bad = self._quality(signals, ptp, invalid, starts)
        good = quality >= self.quality.min_quality
        signals = self._clean(signals, bad, good)
        power = band_power(signals, spec.sfreq, self._bands, n_jobs=1)
        de = differential_entropy(power)
        faa = (
            frontal_asymmetry(power, spec.channels, self._faa_band, self._faa_pairs) if self._faa_pairs else None
        )
        # A window ends one sample after its last one, as offline windows end at t_start + length.
        t_ends = [t_last + 1.0 / spec.sfreq for _, _, _, _, t_last in ready]
        peripheral = {kind: buffer.features(t_ends) for kind, buffer in self.peripheral.items()}
        values = {name: np.full(len(ready), np.nan) for name in _value_names()}
        if good.any():
            rows = np.flatnonzero(good)
            self._predict(signals[rows], power[rows], {k: v[rows] for k, (v, _) in peripheral.items()}, values, rows)
        elapsed = time.perf_counter() - t0
        self.stats.compute_seconds += elapsed
        for i, (k, start, a, b, t_last) in enumerate(ready):
            features = {"band_power": power[i], "de": de[i]}
            if faa is not None:
                features["faa"] = faa[i]
            for kind, (feats, spans) in peripheral.items():
                features[kind] = feats[i]
                features[f"{kind}_span"] = spans[i]
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

    def _raw_stats(self, starts: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Per window and channel ``(n_windows, n_channels)``: raw peak-to-peak (V) and whether a sample was invalid.

        A window's raw samples are the stream's samples (at its rate) whose
        positions lie within the window's span; ``starts`` are the windows'
        first samples (model rate) within their segment.
        """
        up, down = self._ratio
        origin = self._raw.count - self._seg_in  # absolute count of the segment's first input sample
        ptp = np.empty((len(starts), self.n_channels))
        invalid = np.empty((len(starts), self.n_channels), dtype=bool)
        for w, start in enumerate(starts):
            lo = origin - (-start * down // up)
            hi = origin + (start + self.n_window - 1) * down // up + 1
            raw, flags = self._raw.get(lo, hi), self._invalid.get(lo, hi)
            invalid[w] = flags.any(axis=0)
            if invalid[w].any():
                ptp[w] = np.where(flags, -np.inf, raw).max(axis=0) - np.where(flags, np.inf, raw).min(axis=0)
            else:
                ptp[w] = raw.max(axis=0) - raw.min(axis=0)
        return ptp, invalid

    def _quality(
        self, signals: np.ndarray, ptp: np.ndarray, invalid: np.ndarray, starts: list[int]
    ) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
        """Fraction of good channels per window, the reasons, and the bad channels ``(n_windows, n_channels)``.

        ``signals`` (filtered, not re-referenced) are ``(n_windows,
        n_channels, n_times)``; ``ptp`` and ``invalid`` come from
        :meth:`_raw_stats`; ``starts`` are the windows' first samples within
        their segment.
        """
        q = self.quality
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
        return quality, reasons, bad

    def _clean(self, signals: np.ndarray, bad: np.ndarray, good: np.ndarray) -> np.ndarray:
        """Interpolation (windows reaching ``min_quality``), reference, ICA of ``(n_windows, n_channels, n_times)``."""
        keys = []
        for w in range(len(signals)):
            channels = tuple(np.flatnonzero(bad[w]).tolist())
            # A window without a good channel has nothing to interpolate from.
            interpolated = good[w] and self._interpolator is not None and 0 < len(channels) < self.n_channels
            keys.append(channels if interpolated else ())
            self.stats.interpolated_windows += int(interpolated)
        out = signals
        for key in set(keys):
            spatial = self._spatial(key)
            if spatial is None:
                continue
            rows = [w for w, k in enumerate(keys) if k == key]
            if len(rows) == len(signals):  # the usual case: one map for every window, no copies
                return spatial(signals)
            if out is signals:
                out = signals.copy()
            out[rows] = spatial(signals[rows])
        return out

    def _predict(
        self,
        signals: np.ndarray,
        power: np.ndarray,
        peripheral: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
        rows: np.ndarray,
    ) -> None:
        """Fill ``values`` at ``rows`` from the models.

        ``signals`` ``(n, n_channels, n_times)`` in volts, their band power
        ``(n, n_channels, n_bands)`` in V², and the peripheral features
        ``(n, n_features)`` of each kind.
        """
        spec = self.spec
        if spec.offset is not None or spec.scale is not None:
            offset = np.zeros(self.n_channels) if spec.offset is None else spec.offset
            scale = np.ones(self.n_channels) if spec.scale is None else spec.scale
            signals = signals - offset[None, :, None]
            signals /= scale[None, :, None]
            # Welch removes each segment's mean, so the offset leaves band power as it is and the
            # scale divides it by scale²: no second PSD of the normalised window is needed.
            power = power / (scale**2)[None, :, None]
        inputs = {
            "raw": lambda: torch.from_numpy(np.ascontiguousarray(signals, dtype=np.float32)),
            "de": lambda: torch.from_numpy(np.ascontiguousarray(differential_entropy(power), dtype=np.float32)),
        }
        levels = spec.peripheral_offset or {}
        for entry in self.model.models:
            x = inputs[entry.input]()
            nodes = peripheral_nodes(entry.model)
            if nodes:
                # Columns node by node in the model's order, minus the rest level as training subtracts the
                # trial's baseline; NaN marks a missing feature, as offline.
                columns = np.concatenate([peripheral[kind] - levels.get(kind, 0.0) for kind, _ in nodes], axis=1)
                x = (x, torch.from_numpy(np.ascontiguousarray(columns, dtype=np.float32)))
            out = predict(entry.model, x, entry.scale)
            if entry.scale is not None:
                target = entry.targets[0]
                values[target][rows] = out.expected
                values[f"{target}_confidence"][rows] = out.probabilities.max(axis=1)
            else:
                rating = entry.ratings(out.expected.reshape(len(rows), -1))
                for j, target in enumerate(entry.targets):
                    values[target][rows] = rating[:, j]

    def _check_peripheral_nodes(self) -> None:
        """Every peripheral node of a model must be a stream the pipeline reads, with its number of features."""
        for entry in self.model.models:
            for kind, n in peripheral_nodes(entry.model):
                if kind not in self.peripheral or n != len(PERIPHERAL_FEATURES[kind]):
                    known = {k: len(v) for k, v in PERIPHERAL_FEATURES.items()}
                    raise ConfigError(
                        f"{entry.source}: {type(entry.model).__name__} has a peripheral node {kind!r} of {n} features; "
                        f"the pipeline reads {list(self.peripheral)} (nodes it can feed: {known}); give the "
                        f"{kind.upper()} stream (--{kind})"
                    )


def _value_names() -> tuple[str, ...]:
    return (*LIVE_TARGETS, *(f"{t}_confidence" for t in LIVE_TARGETS))
