"""Causal filtering shared by the offline causal mode and the live pipeline.

:func:`design_filters` turns a ``preprocess.filter`` section into MNE's own
second-order sections; :class:`CausalFilter` runs them chunk by chunk with
the state carried across chunks, so that filtering a recording in pieces
equals filtering it whole (``streaming.online`` uses both live).
"""

from __future__ import annotations

import mne
import numpy as np
import scipy.signal

from biosig.config import FilterConfig
from biosig.errors import ConfigError, DataError
from biosig.preprocess.eeg import filter_kwargs


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
