"""Zero-phase FIR notch and band-pass of every EEG channel at once, with MNE's filter kernels.

MNE's ``Raw.filter``/``Raw.notch_filter`` (``method="fir"``, ``phase="zero"``)
design a windowed-sinc kernel (``mne.filter.create_filter``), pad each
contiguous segment by odd reflection (``pad="reflect_limited"``) and convolve
channel by channel with overlap-add FFTs of a few thousand samples: a Python
loop over channels and blocks that took 0.49 s of a 0.77-s ``preprocess_eeg``
(18 x 60-s trials, 14 channels at 128 Hz; cProfile at load 2.2). Here the
same kernels, the same padding and the same segments (split at ``edge`` and
``BAD_ACQ_SKIP`` annotations, MNE's ``skip_by_annotation``, found by MNE's
own helper) are applied by one real FFT over all channels, with the
convolution of the notch and band-pass kernels: for symmetric kernels and
odd-reflection padding that equals the notch then the band-pass. The output
equals MNE's to floating-point rounding (``tests/core/test_preprocess_fast.py``
checks it against ``Raw.notch_filter`` + ``Raw.filter``).
"""

from __future__ import annotations

import mne
import numpy as np
from mne.annotations import _annotations_starts_stops
from scipy import fft as sp_fft

#: MNE's default ``skip_by_annotation`` of ``Raw.filter`` and ``Raw.notch_filter``.
SKIP_BY_ANNOTATION = ("edge", "bad_acq_skip")

#: Samples (rows x padded length) convolved by one FFT: 2**23, a 64-MB float64 block.
CHUNK_SAMPLES = 2**23

#: Design of MNE's FIR filters that this module reproduces (MNE's defaults with ``fir_design="firwin"``).
_DESIGN = {"method": "fir", "phase": "zero", "fir_window": "hamming", "fir_design": "firwin", "verbose": "error"}


def notch_kernel(sfreq: float, freqs: np.ndarray) -> np.ndarray:
    """MNE's zero-phase FIR notch kernel for ``freqs`` (Hz), as ``mne.filter.notch_filter`` designs it.

    Notch widths ``freqs / 200`` and a 1-Hz transition band (MNE's defaults);
    returns the kernel ``(n_taps,)``.
    """
    freqs = np.atleast_1d(np.asarray(freqs, dtype=float))
    half = freqs / 200.0 / 2.0 + 0.5
    return mne.filter.create_filter(
        None, sfreq, list(freqs + half), list(freqs - half), l_trans_bandwidth=0.5, h_trans_bandwidth=0.5, **_DESIGN
    )


def band_kernel(sfreq: float, l_freq: float | None, h_freq: float | None) -> np.ndarray:
    """MNE's zero-phase FIR band-, high- or low-pass kernel ``(n_taps,)`` (automatic length and transition bands)."""
    return mne.filter.create_filter(None, sfreq, l_freq, h_freq, **_DESIGN)


def zero_phase_fir(data: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter ``data`` ``(n_channels, n_times)`` with a symmetric ``kernel`` as MNE's overlap-add does.

    Each row is padded at both ends by ``min(n_taps, n_times) - 1`` samples of
    odd reflection (MNE's ``reflect_limited``: zeros beyond one reflection),
    convolved by one real FFT per block of rows of at most
    :data:`CHUNK_SAMPLES` samples (which bounds the memory to a few times the
    block), and the kernel's delay of ``(n_taps - 1) // 2`` samples removed.
    Returns a new array of the same shape and dtype.
    """
    n_channels, n_times = data.shape
    n_taps = len(kernel)
    if n_taps == 1:
        return data * kernel[0]
    n_edge = max(min(n_taps, n_times) - 1, 0)
    shift = (n_taps - 1) // 2 + n_edge
    n_fft = sp_fft.next_fast_len(n_times + 2 * n_edge + n_taps - 1, real=True)
    spectrum = sp_fft.rfft(kernel, n_fft)
    out = np.empty_like(data)
    rows = max(1, CHUNK_SAMPLES // n_fft)
    for first in range(0, n_channels, rows):
        block = data[first : first + rows]
        padded = np.zeros((len(block), n_fft), dtype=np.float64)
        _reflect_limited_into(padded, block, n_edge)
        product = sp_fft.rfft(padded, axis=-1, overwrite_x=True)
        product *= spectrum
        out[first : first + rows] = sp_fft.irfft(product, n_fft, axis=-1, overwrite_x=True)[:, shift : shift + n_times]
    return out


def _reflect_limited_into(padded: np.ndarray, data: np.ndarray, n_pad: int) -> None:
    """Write ``data`` with ``n_pad`` samples of odd reflection at both ends into zeroed ``padded``, from column 0.

    Beyond one reflection (``n_pad >= n_times``) the padding stays zero, as MNE's ``reflect_limited``.
    """
    n_times = data.shape[-1]
    n_zero = max(n_pad - n_times + 1, 0)
    n_reflect = n_pad - n_zero
    left = slice(n_zero, n_pad)
    padded[:, left] = data[:, n_reflect:0:-1]
    padded[:, left] *= -1
    padded[:, left] += 2 * data[:, :1]
    padded[:, n_pad : n_pad + n_times] = data
    right = slice(n_pad + n_times, n_pad + n_times + n_reflect)
    padded[:, right] = data[:, -2 : -n_reflect - 2 : -1]
    padded[:, right] *= -1
    padded[:, right] += 2 * data[:, -1:]


def filter_segments(raw: mne.io.BaseRaw, picks: np.ndarray, kernels: list[np.ndarray]) -> None:
    """Apply ``kernels`` in turn to channels ``picks`` of ``raw``, in place, per contiguous segment.

    Segments are those MNE's ``Raw.filter`` filters separately: the stretches
    between annotations starting with ``edge`` or ``bad_acq_skip``. A segment
    longer than all kernels together is filtered once with their convolution:
    for symmetric kernels and odd-reflection padding this equals the passes in
    turn (the filtered reflection is the reflection of the filtered signal),
    to floating-point rounding; a shorter one gets the passes in turn.
    """
    combined = kernels[0]
    for kernel in kernels[1:]:
        combined = np.convolve(combined, kernel)
    onsets, ends = _annotations_starts_stops(raw, list(SKIP_BY_ANNOTATION), invert=True)
    data = raw._data
    for start, stop in zip(onsets, ends):
        segment = data[picks, start:stop]
        for kernel in [combined] if stop - start > len(combined) else kernels:
            segment = zero_phase_fir(segment, kernel)
        data[picks, start:stop] = segment
