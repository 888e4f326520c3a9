"""Session -> preprocessed windows -> labelled features (the offline pipeline).

:func:`session_features` runs one subject; :func:`cohort_features` runs many
and concatenates them along ``window`` (:mod:`biosig.cohort_merge`: channels
common to all subjects). Each window row carries the coordinates
``subject``, ``trial``, ``window_in_trial``, ``t_start`` (s), the trial's
ratings ``valence``, ``arousal``, ``dominance`` and every other column of
the trial table (:data:`~biosig.session.CONDITION` as a string, the others
as floats; their names are in the ``label_columns`` attribute).

Any modality mix goes through: a session without EEG gets its ECG/EDA
features only (no EEG preprocessing; ``eeg_info`` is None), one without ECG
or EDA its EEG features only. What the pipeline left out or could not
compute is written to the session's :attr:`PreprocessLog.notes
<biosig.preprocess.eeg.PreprocessLog>`: asymmetry pairs the montage lacks,
windows dropped, and per feature how many windows are NaN and why
(:func:`~biosig.features.extract.nan_counts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import mne
import numpy as np
import pandas as pd
import xarray as xr

from biosig.cohort_merge import merge_results
from biosig.config import RunConfig
from biosig.errors import ConfigError, DataError
from biosig.features.extract import (
    asymmetry_note,
    eeg_features,
    nan_counts,
    peripheral_features,
    subtract_baseline,
)
from biosig.features.peripheral_events import BeatEvents, EdaEvents, detect_session_events
from biosig.preprocess.eeg import PreprocessLog, preprocess_eeg
from biosig.preprocess.windows import baseline_zscore, drop_annotated_windows, slice_windows, window_table
from biosig.session import CONDITION, TARGETS, TRIAL_COLUMNS, Session

#: Coordinate names a trial-table column may not take (they are the pipeline's own).
RESERVED_COORDS: frozenset[str] = frozenset(
    {"subject", "trial", "window", "window_in_trial", "t_start", "segment", "channel", "band", "pair",
     "band_fmin", "band_fmax"}
)


@dataclass
class SessionResult:
    """Features of one session and what preprocessing found in it (``eeg_info`` None without EEG)."""

    subject: str
    features: xr.Dataset
    log: PreprocessLog
    eeg_info: mne.Info | None

    def nan_features(self) -> dict[str, dict[str, object]]:
        """Per feature with NaN windows: their number, the number of windows and why (see :func:`nan_counts`)."""
        return nan_counts(self.features)


def session_features(session: Session, config: RunConfig) -> SessionResult:
    """Preprocess one session and compute its per-window features (see module docstring).

    Raises
    ------
    DataError
        The session has no trials, no modality to compute features from, or
        no window (every trial too short, every window in a BAD annotation).
    ConfigError
        ``preprocess.baseline.mode`` needs a baseline that some trials lack.
    """
    label = f"subject {session.subject}"
    if session.n_trials == 0:
        raise DataError(f"{label}: the session has no trials (an empty trial table); nothing to window")
    has_peripheral = session.ecg is not None or session.eda is not None
    peripheral = config.features.peripheral and has_peripheral
    if session.eeg is None and not peripheral:
        raise DataError(
            f"{label}: no features to compute: the session has no EEG"
            + (" and features.peripheral is false" if has_peripheral else ", ECG or EDA recording")
        )
    base_cfg = config.preprocess.baseline
    _check_baselines(session, base_cfg.mode, label)
    log, raw = PreprocessLog(), None
    if session.eeg is not None:
        raw, log = preprocess_eeg(session.eeg, config.preprocess, label=label)
        note = asymmetry_note(config.features.asymmetry_pairs, raw.ch_names)
        if note:
            log.notes.append(note)
    elif base_cfg.mode == "zscore":
        log.notes.append("preprocess.baseline.mode zscore applies to EEG, which this session lacks")
    annotated = [raw] if raw is not None else [r for r in (session.ecg, session.eda) if r is not None]
    stim_table = window_table(session.trials, config.windows, "stimulus", label=label)
    stim_table = _drop_bad(stim_table, annotated, config.windows.length, log, "stimulus")
    if stim_table.empty:
        raise DataError(f"{label}: every stimulus window overlaps a BAD annotation")
    events = detect_session_events(session) if peripheral else (None, None)
    features = _segment_features(session, raw, stim_table, config, label, events)
    if base_cfg.mode == "feature_subtract":
        base_table = window_table(session.trials, config.windows, "baseline", base_cfg, label=label)
        base_table = _drop_bad(base_table, annotated, config.windows.length, None, "baseline")
        baseline = _segment_features(session, raw, base_table, config, label, events)
        features = subtract_baseline(features, baseline)
    features = _with_window_coords(features, session, stim_table, label)
    rate = {"eeg_sfreq": float(raw.info["sfreq"])} if raw is not None else {}
    features.attrs.update(
        window_length_s=config.windows.length, window_hop_s=config.windows.hop, **rate, baseline_mode=base_cfg.mode
    )
    log.notes += [
        f"{name} is NaN in {c['n_nan']} of {c['n_windows']} windows ({c['reasons'] or 'reason unknown'})"
        for name, c in nan_counts(features).items()
    ]
    return SessionResult(session.subject, features, log, raw.info if raw is not None else None)


def _check_baselines(session: Session, mode: str, label: str) -> None:
    """Baseline correction needs a baseline in every trial (``baseline_duration`` > 0)."""
    if mode == "none" or (mode == "zscore" and session.eeg is None):
        return
    lacking = session.trials.loc[session.trials["baseline_duration"] <= 0, "trial"].tolist()
    if lacking:
        raise ConfigError(
            f"{label}: trials {lacking} have no baseline window (baseline_duration 0), but "
            f"preprocess.baseline.mode is {mode!r}: set trials.baseline to the baseline's [start, stop] "
            "seconds around each event, or preprocess.baseline.mode to 'none'"
        )


def _drop_bad(
    table: pd.DataFrame, raws: list[mne.io.BaseRaw], length: float, log: PreprocessLog | None, segment: str
) -> pd.DataFrame:
    """``table`` without the windows overlapping a BAD annotation of any of ``raws``; noted in ``log``."""
    n_dropped = 0
    for raw in raws:
        table, n = drop_annotated_windows(table, raw, length)
        n_dropped += n
    if n_dropped and log is not None:
        log.notes.append(f"dropped {n_dropped} {segment} windows overlapping BAD annotations")
    return table


def _with_window_coords(features: xr.Dataset, session: Session, table: pd.DataFrame, label: str) -> xr.Dataset:
    """Per-window coordinates: subject, trial, window_in_trial, t_start, ratings and the extra trial columns."""
    extra = [c for c in session.trials.columns if c not in TRIAL_COLUMNS]
    clash = sorted(set(extra) & RESERVED_COORDS)
    if clash:
        raise DataError(f"{label}: trial table columns {clash} clash with the feature coordinates; rename them")
    rows = session.trials.set_index("trial").loc[table["trial"]]
    labels = {
        name: ("window", rows[name].to_numpy(dtype=str if name == CONDITION else float))
        for name in [*TARGETS, *extra]
    }
    features = features.assign_coords(
        subject=("window", np.full(len(table), session.subject)),
        trial=("window", table["trial"].to_numpy()),
        window_in_trial=("window", table["window"].to_numpy()),
        t_start=("window", table["t_start"].to_numpy(), {"units": "s"}),
        **labels,
    )
    if extra:
        features.attrs["label_columns"] = extra
    return features


def _segment_features(
    session: Session,
    raw: mne.io.BaseRaw | None,
    table: pd.DataFrame,
    config: RunConfig,
    label: str,
    events: tuple[BeatEvents | None, EdaEvents | None],
) -> xr.Dataset:
    length = config.windows.length
    starts = table["t_start"].to_numpy()
    feats = xr.Dataset()
    if raw is not None:
        data = slice_windows(raw, starts, length, label)
        units = "V²"
        if config.preprocess.baseline.mode == "zscore":
            data = baseline_zscore(raw, session.trials, table, data, config.preprocess.baseline, label)
            units = "baseline z²"
        feats = eeg_features(data, raw.info["sfreq"], raw.ch_names, config.features, power_units=units)
    if any(e is not None for e in events):
        try:
            feats = feats.merge(peripheral_features(*events, starts, starts + length))
        except DataError as error:
            raise DataError(f"{label}: {error}") from error
    return feats.assign_coords(trial=("window", table["trial"].to_numpy()))


def cohort_features(
    sessions: Iterable[Session],
    config: RunConfig,
    on_done: Callable[[SessionResult], None] | None = None,
) -> tuple[xr.Dataset, list[SessionResult]]:
    """Features of every session concatenated along ``window`` (see module docstring).

    Subjects with different montages keep the channels common to all; each
    subject's lost channels are noted in its log
    (:func:`~biosig.cohort_merge.merge_results`).
    """
    results: list[SessionResult] = []
    for session in sessions:
        result = session_features(session, config)
        results.append(result)
        if on_done is not None:
            on_done(result)
    if not results:
        raise DataError("the cohort has no sessions")
    cohort, _ = merge_results(results)
    return cohort, results
