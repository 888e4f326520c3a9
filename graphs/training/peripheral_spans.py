"""Peripheral (ECG/EDA) features of the spans ending with each EEG window, minus the trial's baseline level.

Steps 5-6 of :mod:`graphs.training.windows_dataset`: per window the features of
the ``peripheral_seconds`` ending with it (:func:`session_peripheral`), minus
the mean over back-to-back tiles of the trial's baseline (:func:`baseline_tiles`,
:func:`tile_level`, :func:`baseline_level`; the live calibration reuses them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from biosig.features.peripheral_causal import detect_ecg_events_causal, detect_eda_events_causal
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from biosig.session import Session
from graphs.training.window_set import WindowSettings

#: Peripheral nodes and their feature counts, in column order: the ``peripheral``
#: hyper-parameter of a model fed :attr:`~graphs.training.window_set.WindowSet.peripheral`.
PERIPHERAL_NODES: tuple[tuple[str, int], ...] = (("ecg", len(ECG_FEATURES)), ("eda", len(EDA_FEATURES)))

#: Column names of :attr:`~graphs.training.window_set.WindowSet.peripheral`, ``node:feature``.
PERIPHERAL_FEATURES: tuple[str, ...] = (*(f"ecg:{f}" for f in ECG_FEATURES), *(f"eda:{f}" for f in EDA_FEATURES))


def session_peripheral(session: Session, trials: pd.DataFrame, windows: pd.DataFrame, settings: WindowSettings) -> np.ndarray:
    """Baseline-subtracted ECG/EDA features of one session's windows (steps 5-6 of :mod:`graphs.training.windows_dataset`).

    Parameters
    ----------
    session
        The subject's recording; a missing ECG or EDA gives NaN columns.
    trials
        Its trial table (baseline onsets and durations, s).
    windows
        One row per EEG window: ``trial`` and ``t_start`` (s, session clock).
    settings
        ``length`` of the EEG windows and ``peripheral_seconds``.

    Returns
    -------
    np.ndarray
        ``(n_windows, len(PERIPHERAL_FEATURES))`` float32, NaN where missing.

    Raises
    ------
    DataError
        A baseline shorter than ``peripheral_seconds``, or a span outside the
        recording (the message names the subject and trial).
    """
    label = f"subject {session.subject}"
    seconds = settings.peripheral_seconds
    if seconds is None:
        raise DataError(f"{label}: peripheral features need settings.peripheral_seconds")
    short = trials.loc[trials["baseline_duration"] < seconds - 1e-9]
    if not short.empty:
        raise DataError(
            f"{label}: trials {short['trial'].tolist()} have baselines of {short['baseline_duration'].tolist()} s, "
            f"shorter than peripheral_seconds={seconds}"
        )
    window_trials = windows["trial"].to_numpy()
    starts = windows["t_start"].to_numpy() + settings.length - seconds
    stimulus = _span_features(session, starts, seconds, window_trials, label)
    levels = baseline_level(session, trials, seconds, label)
    level = pd.DataFrame(levels, index=trials["trial"].to_numpy()).reindex(window_trials).to_numpy()
    return (stimulus - level).astype(np.float32)


def baseline_tiles(onsets: np.ndarray, durations: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The back-to-back ``seconds`` tiles of each baseline (step 6 of :mod:`graphs.training.windows_dataset`).

    Parameters
    ----------
    onsets, durations
        ``(n_baselines,)`` start and length of each baseline, s.
    seconds
        Tile length, s (``peripheral_seconds``).

    Returns
    -------
    starts
        ``(n_tiles,)`` start of every tile, s, baseline after baseline.
    counts
        ``(n_baselines,)`` tiles per baseline: ``floor(duration / seconds)``
        (0 for a baseline shorter than one tile).
    """
    counts = np.floor(np.asarray(durations, dtype=float) / seconds + 1e-9).astype(np.int64)
    parts = [onset + seconds * np.arange(n) for onset, n in zip(np.asarray(onsets, dtype=float), counts, strict=True)]
    return (np.concatenate(parts) if parts else np.zeros(0)), counts


def tile_level(features: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean of each baseline's tile features, NaN tiles left out, ``(n_baselines, n_features)`` float64.

    ``features`` ``(n_tiles, n_features)`` holds the tiles of
    :func:`baseline_tiles` in order, ``counts`` how many belong to each
    baseline. A feature without a usable tile (or a baseline without tiles)
    is NaN. The live calibration (:mod:`streaming.calibrate`) averages its
    rest tiles with this function too.
    """
    n = len(counts)
    group = np.repeat(np.arange(n), counts)
    # pandas' mean skips NaN tiles and gives NaN, silently, for a baseline without any usable tile.
    frame = pd.DataFrame(np.asarray(features, dtype=float).reshape(len(group), -1))
    return frame.groupby(group).mean().reindex(range(n)).to_numpy()


def baseline_level(session: Session, baselines: pd.DataFrame, seconds: float, label: str | None = None) -> np.ndarray:
    """ECG/EDA baseline level of each baseline (step 6 of :mod:`graphs.training.windows_dataset`), ``(n_baselines, 7)`` float64.

    Parameters
    ----------
    session
        The recording; a missing ECG or EDA gives NaN columns.
    baselines
        One row per baseline: ``trial`` (a name for messages),
        ``baseline_onset`` and ``baseline_duration`` (s, session clock), as
        in a trial table.
    seconds
        Tile length, s (``peripheral_seconds``).
    label
        What the session is, for messages (default: its subject).

    Returns
    -------
    np.ndarray
        Columns :data:`PERIPHERAL_FEATURES`: the mean of the features over
        the baseline's back-to-back tiles (:func:`baseline_tiles`), NaN tiles
        left out (:func:`tile_level`); NaN where no tile is usable.

    Raises
    ------
    DataError
        A tile outside the recording (the message names the trial).
    """
    label = f"subject {session.subject}" if label is None else label
    onsets, durations = baselines["baseline_onset"].to_numpy(), baselines["baseline_duration"].to_numpy()
    starts, counts = baseline_tiles(onsets, durations, seconds)
    features = _span_features(session, starts, seconds, np.repeat(baselines["trial"].to_numpy(), counts), label)
    return tile_level(features, counts)


def _span_features(session: Session, starts: np.ndarray, seconds: float, span_trials: np.ndarray, label: str) -> np.ndarray:
    """ECG and EDA features ``(n_spans, len(PERIPHERAL_FEATURES))`` of the spans ``[start, start + seconds)`` (s).

    Spans are cut as every window of the project (:func:`biosig.preprocess.windows.window_indices`):
    first sample ``round(start * sfreq)``, ``round(seconds * sfreq)`` samples. The events are found once
    over the recording in the causal mode of :mod:`biosig.features.peripheral_causal`, and each span uses
    those confirmed by its end, as the live pipeline (:mod:`streaming.online.peripheral`) does.
    """
    out = np.full((len(starts), len(PERIPHERAL_FEATURES)), np.nan)
    column = 0
    for kind, raw, detect, compute, names in (
        ("ECG", session.ecg, detect_ecg_events_causal, ecg_features_from_beats, ECG_FEATURES),
        ("EDA", session.eda, detect_eda_events_causal, eda_features_from_events, EDA_FEATURES),
    ):
        if raw is not None:
            sfreq = float(raw.info["sfreq"])
            signal = raw.get_data(picks=[0])[0]
            n = int(round(seconds * sfreq))
            first = np.round(starts * sfreq).astype(np.int64)
            outside = (first < 0) | (first + n > len(signal))
            if outside.any():
                raise DataError(
                    f"{label}: trial {span_trials[outside][0]}: the {seconds} s {kind} span from "
                    f"{starts[outside][0]:.3f} s lies outside the {len(signal) / sfreq:.2f} s recording"
                )
            if len(starts):
                events = detect(signal, sfreq)
                values = compute(events, starts, starts + seconds, detected=events.detected).values
                out[:, column : column + len(names)] = np.column_stack([values[name] for name in names])
        column += len(names)
    return out
