"""Session -> preprocessed windows -> labelled features (the offline pipeline).

:func:`session_features` runs one subject; :func:`cohort_features` runs many
and concatenates them along ``window``. Each window row carries the
coordinates ``subject``, ``trial``, ``window_in_trial``, ``t_start`` (s) and
the trial's ratings ``valence``, ``arousal``, ``dominance``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import mne
import numpy as np
import pandas as pd
import xarray as xr

from biosig.config import RunConfig
from biosig.errors import DataError
from biosig.features.extract import eeg_features, peripheral_features, subtract_baseline
from biosig.features.peripheral_events import BeatEvents, EdaEvents, detect_session_events
from biosig.preprocess.eeg import PreprocessLog, preprocess_eeg
from biosig.preprocess.windows import baseline_zscore, drop_annotated_windows, slice_windows, window_table
from biosig.session import TARGETS, Session


@dataclass
class SessionResult:
    """Features of one session and what preprocessing found in it."""

    subject: str
    features: xr.Dataset
    log: PreprocessLog
    eeg_info: mne.Info


def session_features(session: Session, config: RunConfig) -> SessionResult:
    """Preprocess one session and compute its per-window features (see module docstring)."""
    label = f"subject {session.subject}"
    if session.eeg is None:
        raise DataError(f"{label}: the session has no EEG recording, which the feature pipeline needs")
    if session.n_trials == 0:
        raise DataError(f"{label}: the session has no trials (an empty trial table); nothing to window")
    raw, log = preprocess_eeg(session.eeg, config.preprocess, label=label)
    base_cfg = config.preprocess.baseline
    stim_table = window_table(session.trials, config.windows, "stimulus", label=label)
    stim_table, n_dropped = drop_annotated_windows(stim_table, raw, config.windows.length)
    if n_dropped:
        log.notes.append(f"dropped {n_dropped} stimulus windows overlapping BAD annotations")
    if stim_table.empty:
        raise DataError(f"{label}: every stimulus window overlaps a BAD annotation")
    events = detect_session_events(session) if config.features.peripheral else (None, None)
    features = _segment_features(session, raw, stim_table, config, label, events)
    if base_cfg.mode == "feature_subtract":
        base_table = window_table(session.trials, config.windows, "baseline", base_cfg, label=label)
        base_table, _ = drop_annotated_windows(base_table, raw, config.windows.length)
        baseline = _segment_features(session, raw, base_table, config, label, events)
        features = subtract_baseline(features, baseline)
    ratings = session.trials.set_index("trial").loc[stim_table["trial"], list(TARGETS)]
    features = features.assign_coords(
        subject=("window", np.full(len(stim_table), session.subject)),
        trial=("window", stim_table["trial"].to_numpy()),
        window_in_trial=("window", stim_table["window"].to_numpy()),
        t_start=("window", stim_table["t_start"].to_numpy(), {"units": "s"}),
        **{t: ("window", ratings[t].to_numpy()) for t in TARGETS},
    )
    features.attrs.update(
        window_length_s=config.windows.length,
        window_hop_s=config.windows.hop,
        eeg_sfreq=float(raw.info["sfreq"]),
        baseline_mode=base_cfg.mode,
    )
    return SessionResult(session.subject, features, log, raw.info)


def _segment_features(
    session: Session,
    raw,
    table: pd.DataFrame,
    config: RunConfig,
    label: str,
    events: tuple[BeatEvents | None, EdaEvents | None],
) -> xr.Dataset:
    length = config.windows.length
    data = slice_windows(raw, table["t_start"].to_numpy(), length, label)
    units = "V²"
    if config.preprocess.baseline.mode == "zscore":
        data = baseline_zscore(raw, session.trials, table, data, config.preprocess.baseline, label)
        units = "baseline z²"
    feats = eeg_features(data, raw.info["sfreq"], raw.ch_names, config.features, power_units=units)
    if config.features.peripheral:
        starts = table["t_start"].to_numpy()
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
    """Features of every session concatenated along ``window`` (see module docstring)."""
    results: list[SessionResult] = []
    for session in sessions:
        result = session_features(session, config)
        if results:
            _check_compatible(results[0], result)
        results.append(result)
        if on_done is not None:
            on_done(result)
    if not results:
        raise DataError("the cohort has no sessions")
    cohort = xr.concat([r.features for r in results], dim="window", join="exact", combine_attrs="override")
    cohort = cohort.assign_coords(window=np.arange(cohort.sizes["window"]))
    return cohort, results


def _check_compatible(first: SessionResult, other: SessionResult) -> None:
    """Sessions must share channels, bands and EEG rate to be stacked into one cohort."""
    a, b = first.features, other.features
    for coord in ("channel", "band", "pair"):
        if list(a[coord].values) != list(b[coord].values):
            raise DataError(
                f"subject {other.subject}: {coord}s {list(b[coord].values)} differ from subject "
                f"{first.subject}'s {list(a[coord].values)}; set preprocess.channels to a common set"
            )
    if a.attrs["eeg_sfreq"] != b.attrs["eeg_sfreq"]:
        raise DataError(
            f"subject {other.subject}: EEG at {b.attrs['eeg_sfreq']} Hz but subject {first.subject} at "
            f"{a.attrs['eeg_sfreq']} Hz; set preprocess.resample_sfreq"
        )
    if sorted(v for v in a.data_vars) != sorted(v for v in b.data_vars):
        raise DataError(
            f"subject {other.subject}: features {sorted(b.data_vars)} differ from subject "
            f"{first.subject}'s {sorted(a.data_vars)} (a modality is missing)"
        )
