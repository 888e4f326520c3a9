"""Causal rational resampling: a stream chunk by chunk, and the same for whole arrays offline.

A stream at ``sfreq_in`` feeding a model at ``sfreq_out`` is resampled by the
ratio ``up / down`` in lowest terms (:func:`resample_factors`) with the
anti-alias filter that :func:`scipy.signal.resample_poly` designs
(:func:`resample_filter`: ``firwin(2 * half_len + 1, 1 / max(up, down),
window=("kaiser", 5.0)) * up`` with ``half_len = 10 * max(up, down)``).
SciPy has no stateful version of its polyphase filter, so
:class:`CausalResampler` computes the polyphase sums itself, carrying the last
input samples from chunk to chunk.

**Alignment.** For an input ``x[0], x[1], ...`` (the first sample of a
segment is ``x[0]``, the state before it zero) and ``y =
scipy.signal.upfirdn(h, x, up, down)``, output ``y[m]`` depends on inputs up to
``j(m) = floor(m * down / up)`` and is emitted as soon as that input arrives:
after ``n`` inputs, the ``ceil(n * up / down)`` outputs whose positions lie
before input ``n`` (the length ``resample_poly`` gives ``n`` samples) have been
emitted, sample for sample the first outputs of ``upfirdn``, whatever the
chunk sizes.
Output ``m`` sits at input position ``p(m) = m * down / up`` (in input samples),
i.e. ``m / sfreq_out`` seconds after ``x[0]``, and holds the band-limited input
delayed by the filter's group delay of ``half_len / (up * sfreq_in)`` s (78 ms
for 256 or 512 Hz to 128 Hz): ``resample_poly`` removes that delay by looking
ahead, which a live stream cannot, so, as for the causal IIR filters, nothing
compensates it. The first ``ceil(2 * half_len / down)`` outputs still see the
zero state before ``x[0]`` (:attr:`CausalResampler.warmup_samples`).
:func:`resample_causal` gives the same outputs for a whole array, so the offline
pipeline with causal filtering matches the live one.

**Stamps.** Output ``m`` is stamped ``t[j] + (p(m) - j) / sfreq_in`` with
``j = j(m)``: the input clock at the output's position. When ``p(m)`` is a whole
sample (every output of an integer decimation such as 512 -> 128 Hz) this is
exactly the stamp of the newest input sample the output depends on; otherwise
the position lies less than one input period after it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mne
import numpy as np
import scipy.signal

from biosig.errors import DataError

#: Largest ``up`` or ``down`` accepted: larger ones mean a ratio that is not a ratio of nominal rates,
#: and a filter of more than 20,000 taps.
MAX_FACTOR = 1000


def resample_factors(sfreq_in: float, sfreq_out: float) -> tuple[int, int]:
    """``(up, down)`` in lowest terms with ``sfreq_in * up / down == sfreq_out``.

    Raises
    ------
    DataError
        A rate is not a positive finite number of Hz, or the ratio needs a
        factor above :data:`MAX_FACTOR` (the message names both rates).
    """
    for name, rate in (("input", sfreq_in), ("output", sfreq_out)):
        if not (math.isfinite(rate) and rate > 0):
            raise DataError(f"resampling needs a positive {name} rate in Hz; got {rate!r}")
    ratio = Fraction(sfreq_out / sfreq_in).limit_denominator(MAX_FACTOR)
    if ratio.numerator > MAX_FACTOR or abs(float(ratio) * sfreq_in - sfreq_out) > 1e-9 * sfreq_out:
        raise DataError(
            f"cannot resample {sfreq_in:g} Hz to {sfreq_out:g} Hz: the ratio is not up/down with "
            f"up, down <= {MAX_FACTOR}"
        )
    return ratio.numerator, ratio.denominator


def resample_filter(up: int, down: int) -> np.ndarray:
    """The anti-alias FIR that :func:`scipy.signal.resample_poly` designs for ``up``/``down`` (lowest terms).

    Shape ``(2 * half_len + 1,)`` with ``half_len = 10 * max(up, down)``; the gain is ``up`` (it makes up
    for the zeros that upsampling inserts).
    """
    max_rate = max(up, down)
    half_len = 10 * max_rate
    return scipy.signal.firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * up


def resample_causal(data: np.ndarray, sfreq_in: float, sfreq_out: float) -> np.ndarray:
    """Resample whole arrays causally along the last axis: the outputs :class:`CausalResampler` emits.

    Parameters
    ----------
    data
        ``(..., n_times)`` at ``sfreq_in`` Hz, the first sample preceded by zeros.
    sfreq_in, sfreq_out
        Input and output rates, Hz.

    Returns
    -------
    np.ndarray
        ``(..., ceil(n_times * up / down))``: the first outputs of
        ``scipy.signal.upfirdn(resample_filter(up, down), data, up, down)``
        (module docstring for the alignment).
    """
    x = np.asarray(data, dtype=np.float64)
    up, down = resample_factors(sfreq_in, sfreq_out)
    if up == down:
        return x.copy()
    n_out = -(-x.shape[-1] * up // down)
    return scipy.signal.upfirdn(resample_filter(up, down), x, up, down, axis=-1)[..., :n_out]


def resample_raw_causal(raw: mne.io.BaseRaw, sfreq: float) -> mne.io.RawArray:
    """A copy of ``raw`` resampled causally to ``sfreq`` Hz (:func:`resample_causal`), the live pipeline's way.

    MNE's ``Raw.resample`` is zero-phase (it looks ahead), so the offline side
    of a live comparison uses this instead. Channels, types, montage, bad
    channels, annotations, line frequency and subject info are kept; a
    cropped recording keeps its first sample's time (``first_samp`` scaled to
    the new rate, as MNE's resample does), so sample ``m`` lies at
    ``first_time + m / sfreq`` s on the recording's clock like the input's
    samples and annotations stay on the same seconds. ``lowpass`` becomes the
    new Nyquist frequency and a custom reference is no longer flagged (MNE
    lets only its own methods set those fields).
    """
    data = resample_causal(raw.get_data(), raw.info["sfreq"], sfreq)
    info = mne.create_info(raw.ch_names, sfreq, raw.get_channel_types())
    for key in ("line_freq", "subject_info"):
        if raw.info[key] is not None:
            info[key] = raw.info[key]
    first_samp = int(round(raw.first_samp * sfreq / raw.info["sfreq"]))
    out = mne.io.RawArray(data, info, first_samp=first_samp, verbose="error")
    montage = raw.get_montage()
    if montage is not None:
        out.set_montage(montage, verbose="error")
    out.info["bads"] = list(raw.info["bads"])
    out.set_meas_date(raw.info["meas_date"])
    annotations = raw.annotations.copy()
    if annotations.orig_time is None:
        # Without a measurement date MNE stores onsets on the recording's clock but reads
        # new ones relative to the first sample: shift them so they land on the same seconds.
        annotations.onset -= raw.first_time
    out.set_annotations(annotations)
    return out


class CausalResampler:
    """Rational resampling of ``(n_channels, n_times)`` chunks, state carried between calls (module docstring).

    Parameters
    ----------
    sfreq_in, sfreq_out
        Input and output rates, Hz.
    n_channels
        Channels per sample.
    """

    def __init__(self, sfreq_in: float, sfreq_out: float, n_channels: int) -> None:
        self.sfreq_in = float(sfreq_in)
        self.sfreq_out = float(sfreq_out)
        self.up, self.down = resample_factors(self.sfreq_in, self.sfreq_out)
        self.h = resample_filter(self.up, self.down)
        self.half_len = (len(self.h) - 1) // 2
        # Polyphase form: output m = sum_k x[j(m) - k] * h[phase(m) + k * up], phase(m) = m * down - j(m) * up.
        self._taps = -(-len(self.h) // self.up)
        padded = np.zeros(self._taps * self.up)
        padded[: len(self.h)] = self.h
        self._poly = padded.reshape(self._taps, self.up).T  # (up, taps)
        self.n_channels = int(n_channels)
        self.reset()

    @property
    def delay(self) -> float:
        """Group delay of the anti-alias filter, s."""
        return self.half_len / (self.up * self.sfreq_in)

    @property
    def warmup_samples(self) -> int:
        """Outputs after a reset that still depend on the zero state before the first input."""
        return -(-2 * self.half_len // self.down)

    def n_outputs(self, n_inputs: int) -> int:
        """Outputs emitted after ``n_inputs`` inputs since the reset."""
        return -(-n_inputs * self.up // self.down)  # outputs m with j(m) < n_inputs, i.e. m * down < n_inputs * up

    def reset(self) -> None:
        """Back to the zero state (a new segment): the next input is ``x[0]``."""
        self._history = np.zeros((self.n_channels, self._taps - 1))
        self._n_in = 0
        self._n_out = 0

    def __call__(self, x: np.ndarray, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Resample the chunk ``x`` ``(n_channels, n_in)`` stamped ``stamps`` ``(n_in,)`` s.

        Returns
        -------
        y, y_stamps
            ``(n_channels, n_out)`` outputs completed by this chunk and their
            stamps ``(n_out,)`` s (module docstring).
        """
        x = np.asarray(x, dtype=np.float64)
        stamps = np.asarray(stamps, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.n_channels or x.shape[1] != len(stamps):
            raise DataError(
                f"resampler of {self.n_channels} channels got a chunk of shape {x.shape} with {len(stamps)} stamps"
            )
        first_in = self._n_in
        total = first_in + x.shape[1]
        stop = self.n_outputs(total)
        m = np.arange(self._n_out, stop, dtype=np.int64)
        j = m * self.down // self.up  # newest input of each output; all lie in this chunk
        phase = m * self.down - j * self.up
        buf = np.concatenate([self._history, x], axis=1)  # buf[:, i] is input first_in - (taps - 1) + i
        newest = j - first_in + self._taps - 1
        idx = newest[:, None] - np.arange(self._taps)[None, :]  # (n_out, taps)
        y = np.einsum("cok,ok->co", buf[:, idx], self._poly[phase]) if len(m) else np.zeros((self.n_channels, 0))
        y_stamps = stamps[j - first_in] + phase / (self.up * self.sfreq_in)
        if self._taps > 1:
            self._history = buf[:, buf.shape[1] - (self._taps - 1) :]
        self._n_in, self._n_out = total, stop
        return y, y_stamps
