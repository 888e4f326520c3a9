"""Functional channel graphs per window: Pearson correlation, phase-locking value, coherence.

Every function maps windows ``(n_windows, n_channels, n_times)`` to
``(n_windows, n_channels, n_channels)`` symmetric matrices in one vectorised
pass. Written here because the field's library for these
(MNE-Connectivity) is not a dependency; each is checked in the tests against
SciPy or a plain per-pair loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import mne
import numpy as np
import scipy.signal

from biosig.errors import ConfigError, DataError


def _windows(data: np.ndarray, ch_names: Sequence[str] | None) -> np.ndarray:
    data = np.asarray(data, float)
    if data.ndim != 3:
        raise DataError(f"windows must have shape (n_windows, n_channels, n_times), got {data.shape}")
    if ch_names is not None and len(ch_names) != data.shape[1]:
        raise DataError(f"{len(ch_names)} channel names for {data.shape[1]} channels")
    bad = ~np.isfinite(data).all(axis=-1)
    if bad.any():
        w, c = np.argwhere(bad)[0]
        raise DataError(f"window {w}, channel {_label(c, ch_names)}: non-finite samples")
    return data


def _label(index: int, ch_names: Sequence[str] | None) -> str:
    return repr(ch_names[index]) if ch_names is not None else str(index)


def _check_not_flat(power: np.ndarray, ch_names: Sequence[str] | None, what: str) -> None:
    flat = ~(power > 0)
    if flat.any():
        w, c = np.argwhere(flat)[0]
        raise DataError(f"window {w}, channel {_label(c, ch_names)}: {what}")


def pearson_adjacency(data: np.ndarray, ch_names: Sequence[str] | None = None) -> np.ndarray:
    """Pearson correlation between channels, per window.

    Parameters
    ----------
    data
        ``(n_windows, n_channels, n_times)``, any unit.
    ch_names
        Used in error messages only.

    Returns
    -------
    np.ndarray
        ``(n_windows, n_channels, n_channels)`` in [-1, 1], diagonal 1.

    Raises
    ------
    DataError
        A channel is constant (or non-finite) in a window.
    """
    x = _windows(data, ch_names)
    x = x - x.mean(axis=-1, keepdims=True)
    norm = np.sqrt((x**2).sum(axis=-1))
    _check_not_flat(norm, ch_names, "constant signal, correlation undefined")
    x = x / norm[..., None]
    return np.clip(x @ x.transpose(0, 2, 1), -1.0, 1.0)


def plv_adjacency(
    data: np.ndarray,
    sfreq: float | None = None,
    band: tuple[float, float] | None = None,
    ch_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Phase-locking value ``|mean_t exp(i (phi_j - phi_k))|`` between channels, per window.

    Phases are those of the analytic signal (:func:`scipy.signal.hilbert`).
    With ``band`` each window is first band-passed with :func:`mne.filter.filter_data`
    (FIR, zero phase); filtering short windows has edge effects, so band-pass the
    continuous recording before windowing where possible and leave ``band`` None.

    Parameters
    ----------
    data
        ``(n_windows, n_channels, n_times)``, any unit.
    sfreq
        Sampling rate in Hz; needed with ``band``.
    band
        ``(fmin, fmax)`` in Hz, or None for no filtering.
    ch_names
        Used in error messages only.

    Returns
    -------
    np.ndarray
        ``(n_windows, n_channels, n_channels)`` in [0, 1], diagonal 1.
    """
    x = _windows(data, ch_names)
    if band is not None:
        if sfreq is None:
            raise ConfigError("plv_adjacency: a band needs sfreq")
        fmin, fmax = band
        if not 0 < fmin < fmax < sfreq / 2:
            raise ConfigError(f"band {band} Hz must satisfy 0 < fmin < fmax < sfreq / 2 = {sfreq / 2}")
        x = mne.filter.filter_data(x, sfreq, fmin, fmax, verbose="error")
    analytic = scipy.signal.hilbert(x, axis=-1)
    amplitude = np.abs(analytic)
    _check_not_flat(amplitude.min(axis=-1), ch_names, "zero analytic amplitude, phase undefined")
    phasor = analytic / amplitude
    plv = np.abs(phasor @ phasor.conj().transpose(0, 2, 1)) / x.shape[-1]
    return np.minimum(plv, 1.0)


def coherence_adjacency(
    data: np.ndarray,
    sfreq: float,
    band: tuple[float, float],
    nperseg: int | None = None,
    ch_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Magnitude-squared coherence averaged over a band, per window.

    The estimate of :func:`scipy.signal.coherence` (Welch: Hann segments of
    ``nperseg`` samples, 50 % overlap, constant detrend), ``|Pxy|^2 / (Pxx Pyy)``,
    averaged over the frequency bins with ``fmin <= f <= fmax``. All pairs come
    from one set of segment spectra instead of one SciPy call per pair.

    Parameters
    ----------
    data
        ``(n_windows, n_channels, n_times)``, any unit.
    sfreq
        Sampling rate in Hz.
    band
        ``(fmin, fmax)`` in Hz.
    nperseg
        Segment length in samples; SciPy's default (256, at most ``n_times``) if None.
        A window needs several segments, or every coherence is 1.
    ch_names
        Used in error messages only.

    Returns
    -------
    np.ndarray
        ``(n_windows, n_channels, n_channels)`` in [0, 1], diagonal 1.
    """
    x = _windows(data, ch_names)
    nperseg = min(256, x.shape[-1]) if nperseg is None else nperseg
    if not 1 < nperseg <= x.shape[-1]:
        raise ConfigError(f"nperseg must be between 2 and n_times = {x.shape[-1]}, got {nperseg}")
    freqs, _, spec = scipy.signal.spectrogram(
        x, sfreq, window="hann", nperseg=nperseg, noverlap=nperseg // 2, detrend="constant", mode="complex"
    )  # (n_windows, n_channels, n_freqs, n_segments)
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    if not in_band.any():
        raise ConfigError(f"band {band} Hz holds no frequency bin (resolution {sfreq / nperseg:.3g} Hz)")
    spec = spec[:, :, in_band].transpose(0, 2, 1, 3)  # (n_windows, n_band_freqs, n_channels, n_segments)
    cross = spec @ spec.conj().transpose(0, 1, 3, 2)
    power = np.real(np.diagonal(cross, axis1=-2, axis2=-1))
    _check_not_flat(power.min(axis=1), ch_names, f"no power in band {band} Hz, coherence undefined")
    coherence = np.abs(cross) ** 2 / (power[..., :, None] * power[..., None, :])
    return np.minimum(coherence.mean(axis=1), 1.0)
