"""Deep-model input types: how windows are cut (:class:`WindowSettings`) and the inputs they give (:class:`WindowSet`).

The cutting itself, steps 1-6, is described and done in :mod:`graphs.training.windows_dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from biosig.config import PreprocessConfig
from biosig.features.eeg import DEFAULT_BANDS

#: Input kinds and the model input dimensions (after the batch axis) they feed.
INPUT_DIMS: dict[str, tuple[str, ...]] = {
    "raw": ("channel", "time"),
    "de": ("channel", "band"),
    "topomap": ("band", "y", "x"),
}


@dataclass(frozen=True)
class WindowSettings:
    """How windows are cut and normalised (defaults: HiSTN on DREAMER).

    Attributes
    ----------
    length, hop
        Window length and step in seconds.
    record_seconds
        The last this-many seconds of each stimulus are used.
    baseline_seconds
        Length of the middle part of each baseline used for z-scoring, s.
    max_normalize
        Divide each channel of each record by its max |x| (raw inputs only).
    bands
        DE bands ``name: (fmin, fmax)`` in Hz.
    topomap_size
        Side of the scalp maps in pixels.
    channels
        Channels in model order; default: the recording's EEG channels.
    preprocess
        MNE preprocessing before windowing; ``None`` (the authors' choice) uses the raw EEG.
    peripheral_seconds
        Span of the peripheral features ending at each window's last sample, s
        (steps 5-6 of :mod:`graphs.training.windows_dataset`); ``None``: no peripheral features.
    """

    length: float = 1.0
    hop: float = 1.0
    record_seconds: float = 60.0
    baseline_seconds: float = 10.0
    max_normalize: bool = True
    bands: tuple[tuple[str, tuple[float, float]], ...] = tuple(DEFAULT_BANDS.items())
    topomap_size: int = 32
    channels: tuple[str, ...] | None = None
    preprocess: PreprocessConfig | None = None
    peripheral_seconds: float | None = None


@dataclass(frozen=True)
class WindowSet:
    """Model inputs of a cohort, one row per window.

    Attributes
    ----------
    x
        ``(n_windows, *shape)`` float32, dimensions ``dims``.
    meta
        One row per window: ``subject``, ``trial``, ``window`` (index in the
        trial), ``t_start`` (s, session clock), ``offset`` (s from the start of
        the trial's record), the trial's ``valence``, ``arousal``, ``dominance``
        and its extra trial columns (``condition``, str; other labels, float).
    dims
        Names of the axes after the window axis, e.g. ``("channel", "time")``.
    ch_names
        Channel order.
    sfreq
        EEG sampling rate, Hz.
    settings
        How the windows were made.
    peripheral
        ``(n_windows, n_features)`` float32 baseline-subtracted ECG/EDA
        features of the same rows (NaN = missing), or ``None`` when
        ``settings.peripheral_seconds`` is unset.
    peripheral_names
        Columns of ``peripheral`` (:data:`~graphs.training.peripheral_spans.PERIPHERAL_FEATURES`); empty without.
    record_peaks
        Raw inputs divided by the record maximum: ``(n_records, n_channels)``
        max |z| of each baseline-z-scored record, the divisors (the live
        export turns them into a fixed factor); else ``None``.
    """

    x: np.ndarray
    meta: pd.DataFrame
    dims: tuple[str, ...]
    ch_names: tuple[str, ...]
    sfreq: float
    settings: WindowSettings
    peripheral: np.ndarray | None = None
    peripheral_names: tuple[str, ...] = ()
    record_peaks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.x)
