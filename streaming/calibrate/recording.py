"""Calibration from a recording (``biosig calibrate CKPT --from FILE``): the file path of :mod:`streaming.calibrate`.

:func:`rest_span` picks the rest span of a recording, :func:`calibrate_session`
measures its EEG statistics from one warm-up before the span, and
:func:`session_rest_level` the ECG/EDA rest level with the offline tiling.
"""

from __future__ import annotations

import math

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.preprocess.resample import resample_factors
from biosig.session import Session
from graphs.training.windows_dataset import PERIPHERAL_NODES, baseline_level, baseline_tiles
from streaming.calibrate.rest import Calibration, check_rest_span, rest_statistics, warmup_samples
from streaming.model_io import LiveSpec
from streaming.online import QualityConfig
from streaming.spatial import ica_map


def rest_span(session: Session, start: float | None, seconds: float) -> tuple[float, float]:
    """The rest span ``(t0, t1)`` in s of a session (:mod:`streaming.calibrate`: the default span)."""
    if start is not None:
        return float(start), float(start) + seconds
    if not session.trials.empty:
        first = session.trials.sort_values("baseline_onset").iloc[0]
        used = min(seconds, float(first["baseline_duration"]))
        t0 = float(first["baseline_onset"]) + (float(first["baseline_duration"]) - used) / 2.0
        return t0, t0 + used
    return 0.0, seconds



def session_rest_level(
    session: Session, spec: LiveSpec, t0: float, t1: float, source: str
) -> tuple[dict[str, np.ndarray], int]:
    """ECG/EDA rest level of the span ``[t0, t1)`` s of a recording, per node of ``spec`` (:mod:`streaming.calibrate`).

    Returns
    -------
    levels
        ``{kind: (n_features,)}`` for each of ``spec.peripheral_nodes`` (NaN: no usable tile).
    tiles
        Tiles of ``spec.peripheral_seconds`` in the span.

    Raises
    ------
    DataError
        The recording lacks a node's signal, the span is shorter than one
        tile, or a tile lies outside the recording.
    """
    seconds = spec.peripheral_seconds
    assert seconds is not None
    missing = [kind.upper() for kind in spec.peripheral_nodes if getattr(session, kind) is None]
    if missing:
        raise DataError(
            f"{source}: the model has {'/'.join(k.upper() for k in spec.peripheral_nodes)} nodes, whose rest level "
            f"the calibration measures; the recording has no {'/'.join(missing)}"
        )
    check_rest_span(spec, t1 - t0, f"{source} ({t0:g}-{t1:g} s)")
    rest = pd.DataFrame({"trial": ["rest"], "baseline_onset": [t0], "baseline_duration": [t1 - t0]})
    level = baseline_level(session, rest, seconds, label=source)[0]
    columns = np.cumsum([0, *(n for _, n in PERIPHERAL_NODES)])
    by_kind = {kind: level[columns[i] : columns[i + 1]] for i, (kind, _) in enumerate(PERIPHERAL_NODES)}
    tiles = int(baseline_tiles([t0], [t1 - t0], seconds)[1][0])
    return {kind: by_kind[kind] for kind in spec.peripheral_nodes}, tiles


def calibrate_session(
    session: Session,
    spec: LiveSpec,
    *,
    start: float | None = None,
    seconds: float = 60.0,
    source: str = "recording",
    ica: mne.preprocessing.ICA | None = None,
    quality: QualityConfig | None = None,
) -> Calibration:
    """Rest statistics of a recorded session's EEG (:mod:`streaming.calibrate`: the file path).

    Parameters
    ----------
    session
        The recording; its EEG must hold the model's channels (any order),
        at the model's rate or one resampled to it.
    spec
        The live input definition.
    start, seconds
        Rest span in s (:func:`rest_span`).
    source
        Name of the recording, for messages and the checkpoint's metadata.
    ica
        The fixed ICA the live session applies (``biosig stream --ica``), or None.
    quality
        Thresholds for invalid samples and flat channels.

    Raises
    ------
    DataError
        No EEG, a rate the model's cannot be reached from, a model channel
        missing, a span outside the recording, or a bad rest (:func:`~streaming.calibrate.rest.rest_statistics`);
        for a model with peripheral nodes, a missing ECG/EDA or a rest shorter
        than one tile (:func:`session_rest_level`).
    """
    raw = session.eeg
    if raw is None:
        raise DataError(f"{source}: the recording has no EEG")
    rate = float(raw.info["sfreq"])
    up, down = resample_factors(rate, spec.sfreq)
    index = {name.casefold(): i for i, name in enumerate(raw.ch_names)}
    missing = [ch for ch in spec.channels if ch.casefold() not in index]
    if missing:
        raise DataError(f"{source}: the model needs EEG channels {missing}; the recording has {raw.ch_names}")
    t0, t1 = rest_span(session, start, seconds)
    lo, hi = int(round(t0 * rate)), int(round(t1 * rate))
    if lo < 0 or hi > raw.n_times:
        raise DataError(f"{source}: the rest span {t0:g}-{t1:g} s lies outside the recording (0-{raw.n_times / rate:g} s)")
    warmup = warmup_samples(spec, rate)
    # Model-rate output m lies at input m * down / up: start early enough for the span to be past the warm-up.
    first = max(0, lo - math.ceil(warmup * down / up))
    skip = max(math.ceil((lo - first) * up / down), warmup)
    data = raw.get_data(picks=[index[ch.casefold()] for ch in spec.channels], start=first, stop=hi)
    mapped = None if ica is None else ica_map(ica, spec.channels, f"{source}: ICA")
    label = f"{source} ({t0:g}-{t1:g} s)"
    stats = rest_statistics(data, spec, skip, stream_sfreq=rate, ica=mapped, source=label, quality=quality)
    begin = first / rate + skip / spec.sfreq
    if not spec.peripheral_nodes:
        return Calibration(stats, source, begin, spec.sfreq)
    # The span the EEG statistics cover: from their first sample to the span's end.
    levels, tiles = session_rest_level(session, spec, begin, t1, source)
    return Calibration(stats, source, begin, spec.sfreq, levels, tiles)
