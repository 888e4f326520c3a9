"""Deep-model inputs from sessions: raw windows the HiSTN way, DE features, scalp maps.

One table of windows serves every model, so all models of a run share the
same rows and the same folds. Per subject and trial (field notes section 1,
DREAMER preprocessing):

1. the trial's **record** is the last ``record_seconds`` (60 s) of its stimulus;
2. each channel is z-scored with the mean and standard deviation of the
   **middle** ``baseline_seconds`` (10 s) of the trial's pre-trial baseline
   (:func:`biosig.preprocess.windows.baseline_zscore`; DREAMER's 61-s
   baseline gives seconds 25.5-35.5);
3. raw inputs only: each channel of each record is divided by its maximum
   absolute value over the record (the authors' ``x / max|x|``);
4. windows of ``length`` (1 s) every ``hop`` seconds are cut from the
   records (:func:`biosig.preprocess.windows.window_table` over the records).

Inputs (:class:`WindowSet`, float32):

* ``raw``: ``(n_windows, n_channels, n_times)`` after steps 1-4 (HiSTN, EEGNet);
* ``de``: ``(n_windows, n_channels, n_bands)`` differential entropy (nats) of
  the windows after steps 1-2, i.e. of baseline-z-scored signal, so it is a
  log power relative to the trial's rest; step 3 is left out because the
  per-trial maximum (often a blink) would add an arbitrary offset per trial
  and channel (DGCNN, logistic regression; :mod:`biosig.features.eeg`);
* ``topomap``: ``(n_windows, n_bands, size, size)`` scalp maps of the DE
  (:func:`graphs.topomap.topomap_interpolator`).

Optional peripheral features (``peripheral_seconds`` set; :attr:`WindowSet.peripheral`,
for models with peripheral nodes), ``(n_windows, 7)`` float32, columns
:data:`PERIPHERAL_FEATURES` (``ecg:hr_bpm`` ... ``eda:scr_amplitude_us``):

5. per window, the ECG (first lead) and EDA features of the
   ``peripheral_seconds`` of signal **ending with the EEG window**, from the
   R-peaks and SCRs the causal detectors find once over the recording
   (:func:`~biosig.features.peripheral_causal.detect_ecg_events_causal`,
   :func:`~biosig.features.peripheral_causal.detect_eda_events_causal`), each
   span using the events confirmed by its end
   (:func:`~biosig.features.peripheral_windows.ecg_features_from_beats`,
   :func:`~biosig.features.peripheral_windows.eda_features_from_events`), as
   the live pipeline does: the span
   ``[t_end - peripheral_seconds, t_end)`` with ``t_end = t_start + length``,
   cut in each modality as every window is (first sample
   ``round(t * sfreq)``), so a 1-s EEG window and its span end at the same
   instant. Only the past is used, so the live pipeline can compute the same
   row when the window completes; early windows reach back before the record
   (into the stimulus or the baseline);
6. minus the trial's **baseline** level: the mean of the same features over
   consecutive ``peripheral_seconds`` tiles of the whole baseline (tiles that
   give NaN are left out, as in :func:`biosig.features.extract.subtract_baseline`).
   A difference, not a z-score: the few tiles of a baseline give no stable
   spread (an SCR count is often constant), and units stay readable (bpm, ms,
   µS, counts); models standardise the columns themselves
   (:class:`graphs.models.layers.PeripheralFusion`).

NaN marks a missing feature (too few beats, a flat or absent signal, no usable
baseline tile) and is kept: the models treat a node whose features are all NaN
in a window as absent there and a single NaN as 0, the baseline level, so NaN
never reaches a weight.

The authors apply no filter; ``preprocess`` optionally runs the MNE
preprocessing of the main job first (:func:`biosig.preprocess.eeg.preprocess_eeg`).

The settings and input types live in :mod:`graphs.training.window_set`, steps
5-6 in :mod:`graphs.training.peripheral_spans`; this module cuts the records
and windows and re-exports both modules' names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import mne
import numpy as np
import pandas as pd

from biosig.config import BaselineConfig, WindowConfig
from biosig.errors import DataError
from biosig.features.eeg import band_power, differential_entropy
from biosig.preprocess.eeg import preprocess_eeg
from biosig.preprocess.windows import baseline_zscore, slice_windows, window_table
from biosig.session import TARGETS, TRIAL_COLUMNS, Session
from graphs.topomap import topomap_interpolator
from graphs.training.peripheral_spans import (
    PERIPHERAL_FEATURES,
    PERIPHERAL_NODES,
    baseline_level,
    baseline_tiles,
    session_peripheral,
    tile_level,
)
from graphs.training.window_set import INPUT_DIMS, WindowSet, WindowSettings

__all__ = [
    "INPUT_DIMS",
    "PERIPHERAL_FEATURES",
    "PERIPHERAL_NODES",
    "WindowSet",
    "WindowSettings",
    "baseline_level",
    "baseline_tiles",
    "cohort_windows",
    "session_peripheral",
    "session_records",
    "tile_level",
]


def session_records(session: Session, settings: WindowSettings) -> tuple[np.ndarray, pd.DataFrame, tuple[str, ...], float]:
    """Baseline-z-scored trial records of one session (steps 1-2 of the module docstring).

    Returns
    -------
    records
        ``(n_trials, n_channels, n_record_samples)`` float64, unitless (baseline z).
    trials
        The trial table with ``record_onset`` (s, session clock) added.
    ch_names
        Channel order of ``records``.
    sfreq
        Sampling rate, Hz.

    Raises
    ------
    DataError
        No EEG or no trials, a stimulus shorter than the record, a baseline
        shorter than ``baseline_seconds``, a requested channel missing or a
        flat baseline (the message names the subject and trial or channel).
    """
    label = f"subject {session.subject}"
    if session.eeg is None:
        raise DataError(f"{label}: the session has no EEG")
    if session.trials.empty:
        raise DataError(f"{label}: the session has no trials")
    raw = session.eeg
    if settings.preprocess is not None:
        raw, _log = preprocess_eeg(raw, settings.preprocess, label=label)
    raw = _pick(raw, settings.channels, label)
    trials = session.trials.copy()
    short = trials.loc[trials["stimulus_duration"] < settings.record_seconds - 1e-9, "trial"].tolist()
    if short:
        raise DataError(f"{label}: trials {short} have stimuli shorter than the {settings.record_seconds} s record")
    trials["record_onset"] = trials["stimulus_onset"] + trials["stimulus_duration"] - settings.record_seconds
    table = pd.DataFrame({"trial": trials["trial"], "t_start": trials["record_onset"]}).reset_index(drop=True)
    records = slice_windows(raw, table["t_start"].to_numpy(), settings.record_seconds, label)
    out = np.empty_like(records)
    for duration, group in trials.groupby("baseline_duration"):
        start = (duration - settings.baseline_seconds) / 2.0
        if start < 0:
            raise DataError(
                f"{label}: trials {group['trial'].tolist()} have {duration} s baselines, shorter than the "
                f"{settings.baseline_seconds} s used for z-scoring"
            )
        middle = BaselineConfig(mode="zscore", start=start, stop=start + settings.baseline_seconds)
        rows = table["trial"].isin(group["trial"]).to_numpy()
        out[rows] = baseline_zscore(raw, group, table[rows], records[rows], middle, label)
    return out, trials, tuple(raw.ch_names), float(raw.info["sfreq"])


def cohort_windows(
    sessions: Iterable[Session], kinds: Sequence[str] = ("raw",), settings: WindowSettings | None = None
) -> dict[str, WindowSet]:
    """Inputs of every requested kind (``raw``, ``de``, ``topomap``) for a cohort, rows aligned.

    Raises
    ------
    DataError
        No session, sessions with different channels or rates, a trial too
        short or without a usable baseline (message names the subject).
    """
    settings = settings or WindowSettings()
    unknown = sorted(set(kinds) - set(INPUT_DIMS))
    if unknown:
        raise DataError(f"unknown input kinds {unknown}; known: {sorted(INPUT_DIMS)}")
    raws, des, metas, peripherals, peaks = [], [], [], [], []
    first: tuple[str, tuple[str, ...], float] | None = None
    for session in sessions:
        records, trials, ch_names, sfreq = session_records(session, settings)
        if first is None:
            first = (session.subject, ch_names, sfreq)
        elif (ch_names, sfreq) != first[1:]:
            raise DataError(
                f"subject {session.subject}: channels {list(ch_names)} at {sfreq} Hz differ from subject "
                f"{first[0]}'s {list(first[1])} at {first[2]} Hz"
            )
        rows, first_sample, meta = _window_table(trials, session, settings, sfreq)
        n_samples = int(round(settings.length * sfreq))
        metas.append(meta)
        if settings.peripheral_seconds is not None:
            peripherals.append(session_peripheral(session, trials, meta, settings))
        if "de" in kinds or "topomap" in kinds:
            power = band_power(_gather(records, rows, first_sample, n_samples), sfreq, dict(settings.bands))
            de = differential_entropy(power)
            if not np.isfinite(de).all():
                bad = sorted({ch_names[c] for c in np.nonzero(~np.isfinite(de))[1]})
                raise DataError(f"subject {session.subject}: channels {bad} are flat in some window (DE is -inf)")
            des.append(de.astype(np.float32))
        if "raw" in kinds:
            if settings.max_normalize:
                peak = np.abs(records).max(axis=2, keepdims=True)
                if (peak == 0).any():
                    raise DataError(f"subject {session.subject}: a channel is all zeros in a record")
                records = records / peak
                peaks.append(peak[..., 0])
            raws.append(_gather(records, rows, first_sample, n_samples).astype(np.float32))
    if first is None:
        raise DataError("the cohort has no sessions")
    meta = pd.concat(metas, ignore_index=True)
    ch_names, sfreq = first[1], first[2]
    extra: tuple = (np.concatenate(peripherals), PERIPHERAL_FEATURES) if peripherals else ()
    out: dict[str, WindowSet] = {}
    if "raw" in kinds:
        out["raw"] = WindowSet(
            np.concatenate(raws), meta, INPUT_DIMS["raw"], ch_names, sfreq, settings, *extra,
            record_peaks=np.concatenate(peaks) if peaks else None,
        )  # fmt: skip
    if "de" in kinds or "topomap" in kinds:
        de = np.concatenate(des)
        if "de" in kinds:
            out["de"] = WindowSet(de, meta, INPUT_DIMS["de"], ch_names, sfreq, settings, *extra)
        if "topomap" in kinds:
            topo = topomap_interpolator(ch_names, size=settings.topomap_size)
            maps = topo(de).astype(np.float32)
            out["topomap"] = WindowSet(maps, meta, INPUT_DIMS["topomap"], ch_names, sfreq, settings, *extra)
    return out


def _window_table(
    trials: pd.DataFrame, session: Session, settings: WindowSettings, sfreq: float
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Windows over the records: record row ``(n_windows,)``, first sample in the record ``(n_windows,)``, metadata."""
    label = f"subject {session.subject}"
    spans = trials.assign(stimulus_onset=trials["record_onset"], stimulus_duration=settings.record_seconds)
    table = window_table(spans, WindowConfig(length=settings.length, hop=settings.hop), "stimulus", label=label)
    by_trial = trials.reset_index(drop=True).reset_index().set_index("trial")
    offset = table["t_start"].to_numpy() - by_trial.loc[table["trial"], "record_onset"].to_numpy()
    rows = by_trial.loc[table["trial"], "index"].to_numpy()
    # The ratings, then every extra trial column (``condition``, other numeric labels).
    labels = [*TARGETS, *(c for c in trials.columns if c not in TRIAL_COLUMNS and c != "record_onset")]
    ratings = by_trial.loc[table["trial"], labels].reset_index(drop=True)
    meta = pd.DataFrame(
        {
            "subject": session.subject,
            "trial": table["trial"].to_numpy(),
            "window": table["window"].to_numpy(),
            "t_start": table["t_start"].to_numpy(),
            "offset": offset,
        }
    )
    return rows, np.round(offset * sfreq).astype(np.int64), pd.concat([meta, ratings], axis=1)


def _gather(records: np.ndarray, rows: np.ndarray, first: np.ndarray, n_samples: int) -> np.ndarray:
    """Windows ``(n_windows, n_channels, n_samples)`` cut from records ``(n_records, n_channels, n_record_samples)``."""
    idx = first[:, None] + np.arange(n_samples)[None, :]
    # Advanced indices on axes 0 and 2 go first: (n_windows, n_samples, n_channels).
    return np.ascontiguousarray(np.moveaxis(records[rows[:, None], :, idx], 2, 1))


def _pick(raw: mne.io.BaseRaw, channels: Sequence[str] | None, label: str) -> mne.io.BaseRaw:
    """The EEG channels in the requested order (all EEG channels by default)."""
    eeg = raw.copy().pick("eeg")
    if channels is None:
        return eeg
    missing = [ch for ch in channels if ch not in eeg.ch_names]
    if missing:
        raise DataError(f"{label}: EEG channels {missing} are missing; the recording has {eeg.ch_names}")
    return eeg.reorder_channels(list(channels)).pick(list(channels))
