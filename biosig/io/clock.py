"""One session clock for a reader's signal blocks: :func:`assemble`.

t = 0 s is the latest first sample among the EEG, ECG and EDA blocks (so each
has data from 0 s), or the earliest first sample when there are none. Other
modalities are cropped to it or padded with NaN (marked ``BAD_ACQ_SKIP``);
events become MNE annotations on every recording they fall in. On a unix
clock (E4 exports, date-time columns) t = 0 also gives each recording's
``meas_date``; a start that is no date between 1970 and 9999 is a
:class:`~biosig.errors.DataError` naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.io.channels import CORE_MODALITIES, MODALITY_TYPES, Recording, TimedSignal, set_standard_montage

#: The first second of the year 10000 in unix time, s: the end of what :class:`datetime.datetime` holds.
UNIX_TIME_END = 253402300800.0


def assemble(recording: Recording) -> tuple[dict[str, mne.io.BaseRaw], dict[str, Any]]:
    """Put a reader's signal blocks on one session clock (see the module docstring).

    Parameters
    ----------
    recording
        Blocks and events on the recording's clock.

    Returns
    -------
    raws
        One :class:`mne.io.RawArray` per modality key, sample 0 at (within
        half a sample of) t = 0, with the events and gaps as annotations.
    info
        ``recording.info`` plus ``start_offsets_s`` (modality -> time of its
        sample 0 on the session clock, s), ``clock_origin_s`` (t = 0 on the
        recording's clock) and ``extra_sources`` (extra key -> block source).

    Raises
    ------
    DataError
        No signal, two blocks of EEG, ECG or EDA, an EEG/ECG/EDA block that
        ends before another begins, or a unix-clock start outside 1970-9999.
    """
    info = dict(recording.info)
    notes = info.setdefault("warnings", [])
    blocks = _keyed(recording)
    if not blocks:
        raise DataError(f"{info.get('file', recording.subject)}: no signal to read (only events or empty streams)")
    core = [b for key, b in blocks.items() if key in CORE_MODALITIES]
    origin = max(b.start for b in core) if core else min(b.start for b in blocks.values())
    raws, offsets = {}, {}
    events = _events(recording.markers, origin)
    meas_date = _meas_date(origin, info.get("file", recording.subject)) if recording.unix_clock else None
    for key, block in blocks.items():
        shift = int(round((origin - block.start) * block.sfreq))
        n_channels, n_times = block.data.shape
        if shift >= n_times:
            message = (
                f"{block.source}: ends at {block.start + n_times / block.sfreq - origin:.3f} s on the session clock, "
                "before the EEG/ECG/EDA recordings all begin"
            )
            if key in CORE_MODALITIES:
                raise DataError(message + " (the recordings do not overlap)")
            notes.append(message + "; dropped")
            continue
        gaps = [(onset - shift / block.sfreq, duration) for onset, duration in block.gaps]
        if shift >= 0:
            data = block.data[:, shift:]
        else:
            data = np.concatenate([np.full((n_channels, -shift), np.nan), block.data], axis=1)
            gaps.insert(0, (0.0, -shift / block.sfreq))
        offsets[key] = float(block.start + shift / block.sfreq - origin)
        raw = mne.io.RawArray(
            data, mne.create_info(block.ch_names, block.sfreq, MODALITY_TYPES[block.modality]), verbose="error"
        )
        if meas_date is not None:
            raw.set_meas_date(meas_date)
        raw.set_annotations(_annotations(events, gaps, raw.n_times / raw.info["sfreq"]))
        if block.modality == "eeg":
            set_standard_montage(raw)
        raws[key] = raw
    outside = _outside(events, raws)
    if outside:
        notes.append(f"{outside} events fall outside every recording on the session clock; dropped")
    info.update(
        start_offsets_s=offsets,
        clock_origin_s=origin,
        extra_sources={k: b.source for k, b in blocks.items() if k not in CORE_MODALITIES},
    )
    return raws, info


def _meas_date(origin: float, source: str) -> datetime:
    """The UTC date of unix time ``origin`` (s); DataError naming ``source`` outside 1970 to 9999."""
    if not (np.isfinite(origin) and 0 <= origin < UNIX_TIME_END):
        raise DataError(
            f"{source}: the recording starts at unix time {origin!r} s, which is no date between 1970 and 9999 "
            "(a corrupt or non-unix start time)"
        )
    return datetime.fromtimestamp(origin, tz=timezone.utc)


def _keyed(recording: Recording) -> dict[str, TimedSignal]:
    """Blocks by session key: the modality, numbered when several blocks share a non-core one."""
    by_modality: dict[str, list[TimedSignal]] = {}
    for block in recording.signals:
        by_modality.setdefault(block.modality, []).append(block)
    out = {}
    for modality, blocks in by_modality.items():
        if len(blocks) > 1 and modality in CORE_MODALITIES:
            raise DataError(
                f"{recording.info.get('file', recording.subject)}: {modality.upper()} comes from "
                f"{[b.source for b in blocks]}; keep one with streams=[...] (a stream's name or type, or "
                "'source_id:ID', 'hostname:HOST' or 'index:N' to tell same-named streams apart) or retype "
                "with channel_types"
            )
        for i, block in enumerate(blocks):
            out[modality if len(blocks) == 1 else f"{modality}_{i + 1}"] = block
    return out


def _events(markers: pd.DataFrame, origin: float) -> pd.DataFrame:
    duration = markers["duration"] if "duration" in markers else pd.Series(0.0, index=markers.index)
    return pd.DataFrame(
        {
            "onset": markers["time"].to_numpy(dtype=float) - origin,
            "duration": duration.fillna(0.0).to_numpy(dtype=float),
            "description": markers["description"].astype(str).to_numpy(),
        }
    )


def _annotations(events: pd.DataFrame, gaps: list[tuple[float, float]], length: float) -> mne.Annotations:
    inside = events[(events["onset"] >= 0) & (events["onset"] < length)]
    onsets = np.concatenate([inside["onset"].to_numpy(), [g[0] for g in gaps]])
    ends = np.minimum(onsets + np.concatenate([inside["duration"].to_numpy(), [g[1] for g in gaps]]), length)
    descriptions = [*inside["description"], *["BAD_ACQ_SKIP"] * len(gaps)]
    return mne.Annotations(onsets, ends - onsets, descriptions)


def _outside(events: pd.DataFrame, raws: Mapping[str, mne.io.BaseRaw]) -> int:
    longest = max((raw.n_times / raw.info["sfreq"] for raw in raws.values()), default=0.0)
    return int(((events["onset"] < 0) | (events["onset"] >= longest)).sum())

