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

5. per window, :func:`~biosig.features.peripheral.ecg_window_features` (first
   ECG lead) and :func:`~biosig.features.peripheral.eda_window_features` of the
   ``peripheral_seconds`` of signal **ending with the EEG window**: the span
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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import mne
import numpy as np
import pandas as pd

from biosig.config import BaselineConfig, PreprocessConfig, WindowConfig
from biosig.errors import DataError
from biosig.features.eeg import DEFAULT_BANDS, band_power, differential_entropy
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES, ecg_window_features, eda_window_features
from biosig.preprocess.eeg import preprocess_eeg
from biosig.preprocess.windows import baseline_zscore, slice_windows, window_table
from biosig.session import TARGETS, Session
from graphs.topomap import topomap_interpolator

#: Input kinds and the model input dimensions (after the batch axis) they feed.
INPUT_DIMS: dict[str, tuple[str, ...]] = {
    "raw": ("channel", "time"),
    "de": ("channel", "band"),
    "topomap": ("band", "y", "x"),
}

#: Peripheral nodes and their feature counts, in column order: the ``peripheral``
#: hyper-parameter of a model fed :attr:`WindowSet.peripheral`.
PERIPHERAL_NODES: tuple[tuple[str, int], ...] = (("ecg", len(ECG_FEATURES)), ("eda", len(EDA_FEATURES)))

#: Column names of :attr:`WindowSet.peripheral`, ``node:feature``.
PERIPHERAL_FEATURES: tuple[str, ...] = (*(f"ecg:{f}" for f in ECG_FEATURES), *(f"eda:{f}" for f in EDA_FEATURES))


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
        (steps 5-6 of the module docstring); ``None``: no peripheral features.
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
        the trial's record) and the trial's ``valence``, ``arousal``, ``dominance``.
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
        Columns of ``peripheral`` (:data:`PERIPHERAL_FEATURES`); empty without.
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


def session_peripheral(session: Session, trials: pd.DataFrame, windows: pd.DataFrame, settings: WindowSettings) -> np.ndarray:
    """Baseline-subtracted ECG/EDA features of one session's windows (steps 5-6 of the module docstring).

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
    """The back-to-back ``seconds`` tiles of each baseline (step 6 of the module docstring).

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
    """ECG/EDA baseline level of each baseline (step 6 of the module docstring), ``(n_baselines, 7)`` float64.

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
    first sample ``round(start * sfreq)``, ``round(seconds * sfreq)`` samples.
    """
    out = np.full((len(starts), len(PERIPHERAL_FEATURES)), np.nan)
    column = 0
    for kind, raw, compute, names in (
        ("ECG", session.ecg, ecg_window_features, ECG_FEATURES),
        ("EDA", session.eda, eda_window_features, EDA_FEATURES),
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
            values = compute(signal[first[:, None] + np.arange(n)[None, :]], sfreq)
            out[:, column : column + len(names)] = np.column_stack([values[name] for name in names])
        column += len(names)
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
    ratings = by_trial.loc[table["trial"], list(TARGETS)].reset_index(drop=True)
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
