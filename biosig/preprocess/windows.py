"""Sliding windows over trials, shared by every modality, and baseline z-scoring.

A window is defined by its start time in seconds on the session clock and the
configured length, so the EEG, ECG and EDA windows of one row cover the same
instant whatever their sampling rates. Windows are sliced to arrays
(:func:`slice_windows`); :func:`make_epochs` wraps them in :class:`mne.Epochs`
with the window table as metadata for callers that want MNE's object.
"""

from __future__ import annotations

from typing import Literal

import mne
import numpy as np
import pandas as pd

from biosig.config import BaselineConfig, WindowConfig
from biosig.errors import DataError

Segment = Literal["stimulus", "baseline"]


def window_table(
    trials: pd.DataFrame,
    windows: WindowConfig,
    segment: Segment = "stimulus",
    baseline: BaselineConfig | None = None,
    label: str = "session",
) -> pd.DataFrame:
    """One row per window: ``trial``, ``segment``, ``window`` (index in the trial), ``t_start`` (s).

    For ``segment="baseline"`` the windows tile the part of each trial's
    baseline selected by ``baseline.start``/``baseline.stop`` (seconds from
    the baseline onset). Raises :class:`DataError` naming every trial whose
    segment is shorter than one window, with its length.
    """
    rows, short = [], []
    for trial in trials.itertuples(index=False):
        onset, duration = _segment_span(trial, segment, baseline)
        if duration < windows.length - 1e-9:
            short.append(
                f"trial {trial.trial} {segment} segment lasts {duration:.2f} s, "
                f"shorter than one {windows.length} s window"
            )
            continue
        n = int(np.floor((duration - windows.length) / windows.hop + 1e-9)) + 1
        starts = onset + windows.hop * np.arange(n)
        rows.append(
            pd.DataFrame(
                {"trial": trial.trial, "segment": segment, "window": np.arange(n), "t_start": starts}
            )
        )
    if short:
        raise DataError(
            f"{label}: {'; '.join(short)} ({len(short)} of {len(trials)} trials cannot hold a window): "
            "shorten windows.length or lengthen the trials (trials.tmin/tmax, trials.baseline)"
        )
    return pd.concat(rows, ignore_index=True)


def _segment_span(trial, segment: Segment, baseline: BaselineConfig | None) -> tuple[float, float]:
    if segment == "stimulus":
        return float(trial.stimulus_onset), float(trial.stimulus_duration)
    cfg = baseline or BaselineConfig()
    stop = trial.baseline_duration if cfg.stop is None else min(cfg.stop, trial.baseline_duration)
    return float(trial.baseline_onset + cfg.start), float(stop - cfg.start)


def drop_annotated_windows(table: pd.DataFrame, raw: mne.io.BaseRaw, length: float) -> tuple[pd.DataFrame, int]:
    """Remove windows overlapping a ``BAD*`` annotation of ``raw``; return the rest and how many went."""
    spans = [
        (ann["onset"] - raw.first_time, ann["onset"] - raw.first_time + ann["duration"])
        for ann in raw.annotations
        if ann["description"].upper().startswith("BAD")
    ]
    if not spans:
        return table, 0
    start = table["t_start"].to_numpy()
    hit = np.zeros(len(table), dtype=bool)
    for lo, hi in spans:
        hit |= (start < hi) & (start + length > lo)
    return table.loc[~hit].reset_index(drop=True), int(hit.sum())


def window_indices(t_start: np.ndarray, length: float, sfreq: float, n_times_total: int, label: str) -> np.ndarray:
    """Sample index matrix ``(n_windows, n_samples)`` for windows starting at ``t_start`` seconds."""
    n_samples = int(round(length * sfreq))
    first = np.round(np.asarray(t_start) * sfreq).astype(np.int64)
    if first.size and (first.min() < 0 or first.max() + n_samples > n_times_total):
        raise DataError(f"{label}: a window reaches past the end of the recording ({n_times_total / sfreq:.2f} s)")
    return first[:, None] + np.arange(n_samples)[None, :]


def slice_windows(raw: mne.io.BaseRaw, t_start: np.ndarray, length: float, label: str) -> np.ndarray:
    """Windows of every channel of ``raw`` as ``(n_windows, n_channels, n_samples)`` in SI units.

    The windows are gathered straight from the loaded recording (no copy of
    it first) by one fancy index, which returns a new C-contiguous array.
    """
    data = _loaded_data(raw)
    idx = window_indices(t_start, length, raw.info["sfreq"], data.shape[1], label)
    return data[np.arange(data.shape[0])[None, :, None], idx[:, None, :]]


def _loaded_data(raw: mne.io.BaseRaw) -> np.ndarray:
    """Every channel of ``raw`` ``(n_channels, n_times)`` in SI units: the loaded array itself (read only) when preloaded."""
    return raw._data if raw.preload else raw.get_data()


def make_epochs(raw: mne.io.BaseRaw, table: pd.DataFrame, length: float, label: str) -> mne.Epochs:
    """EEG windows as :class:`mne.EpochsArray` with ``table`` as metadata; data in volts."""
    data = slice_windows(raw, table["t_start"].to_numpy(), length, label)
    sfreq = raw.info["sfreq"]
    events = np.column_stack(
        [np.round(table["t_start"].to_numpy() * sfreq).astype(int), np.zeros(len(table), int), np.ones(len(table), int)]
    )
    return mne.EpochsArray(
        data, raw.info, events=events, tmin=0.0, metadata=table.reset_index(drop=True), verbose="error"
    )


def baseline_zscore(
    raw: mne.io.BaseRaw,
    trials: pd.DataFrame,
    table: pd.DataFrame,
    data: np.ndarray,
    baseline: BaselineConfig,
    label: str,
) -> np.ndarray:
    """Z-score each window with its trial's baseline statistics, per channel.

    ``data`` is ``(n_windows, n_channels, n_samples)`` in volts, rows in the
    order of ``table``; the result is unitless. The mean and standard
    deviation come from the part of the trial's baseline chosen by
    ``baseline`` (HiSTN: the middle 10 s of DREAMER's 61 s baseline).
    """
    out = np.empty_like(data)
    sig = _loaded_data(raw)
    sfreq = raw.info["sfreq"]
    for trial in trials.itertuples(index=False):
        onset, duration = _segment_span(trial, "baseline", baseline)
        lo, hi = int(round(onset * sfreq)), int(round((onset + duration) * sfreq))
        seg = sig[:, lo:hi]
        std = seg.std(axis=1)
        flat = std <= 0
        if flat.any():
            names = [raw.ch_names[i] for i in np.flatnonzero(flat)]
            raise DataError(f"{label}: trial {trial.trial} baseline is flat on channels {names}; cannot z-score")
        rows = (table["trial"] == trial.trial).to_numpy()
        out[rows] = (data[rows] - seg.mean(axis=1)[None, :, None]) / std[None, :, None]
    return out
