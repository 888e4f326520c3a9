"""XDF recordings (Lab Streaming Layer, LabRecorder): several streams, one session.

pyxdf reads the file with ``synchronize_clocks=True`` (each stream's
recorded clock offsets applied, so every time stamp is on the recording
computer's LSL clock) and ``dejitter_timestamps=True`` (a regular stream's
stamps fitted by a line per segment). This module then turns the streams into
:class:`~biosig.io.channels.TimedSignal` blocks and point events:

* **String streams** (and numeric ones of an irregular ``Markers``/``Events``
  type) become events: one per sample, the channels joined with ``"|"``.
* **Regular numeric streams** (``nominal_srate > 0``) keep their rate. A
  stream that pyxdf splits into segments (a gap of more than 1 s) is laid on
  one sample grid, the gaps filled with NaN and marked ``BAD_ACQ_SKIP``
  (MNE's annotation for acquisition skips, which its filters and epochs
  honour). If the measured rate of the longest segment differs from the
  nominal one by more than 1 %, the measured rate is used and a warning
  recorded.
* **Irregular numeric streams** (``nominal_srate == 0``) are the only ones
  resampled: linearly interpolated (:func:`numpy.interp`; MNE has no
  irregular-to-regular step) onto a grid at ``irregular_sfreq`` Hz, by
  default the stream's mean rate. Their stamps must strictly increase.
* Channel names, types and units come from the stream's ``desc/channels``
  (else ``<stream name>_<n>`` and the stream type); ExG channels (EEG, ECG,
  EOG, EMG) without a unit are taken as microvolts and EDA as microsiemens,
  the XDF meta-data conventions, and a warning says so.
* A stream with no samples (or one sample, or no channels) is dropped with a
  warning in ``info["warnings"]``; so are pyxdf's own warnings.
* ``streams`` selects streams by name or type, or, to tell apart streams that
  share a name (two headsets both called ``Muse``), by ``"source_id:ID"``,
  ``"hostname:HOST"`` or ``"index:N"`` (0-based, in the order of the file's
  stream headers). Messages about a stream whose name is not unique give its
  index, source_id and hostname.

Before pyxdf runs, the chunk structure is checked
(:func:`biosig.io.xdf_chunks.check_chunks`): a corrupt chunk is a
:class:`~biosig.errors.DataError` naming the byte offset; a file that ends
inside a chunk (a recording that crashed) is read up to its last complete
chunk, with a warning.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyxdf

from biosig.errors import BiosigError, DataError
from biosig.io.channels import Recording, TimedSignal, no_events, normalise_name, plan_channels, si_factor
from biosig.io.xdf_chunks import check_chunks
_MARKER_TYPE = re.compile(r"marker|event|trigger|stim", re.IGNORECASE)
_RATE_TOLERANCE = 0.01
_SELECTOR_KEYS = ("source_id", "hostname", "index")
_DEFAULT_UNITS = {
    "eeg": "microvolts",
    "ecg": "microvolts",
    "eog": "microvolts",
    "emg": "microvolts",
    "eda": "microsiemens",
}


def read_xdf(
    path: Path,
    *,
    subject: str,
    streams: Sequence[str] | None = None,
    channel_types: Mapping[str, str] | None = None,
    irregular_sfreq: float | None = None,
) -> Recording:
    """Read an XDF file into signal blocks and events on the LSL clock.

    Parameters
    ----------
    path
        The ``.xdf`` file.
    subject
        Subject id for the session.
    streams
        Selectors of the streams to keep (default: all); a stream is kept when
        any selector matches it: its exact name or type, ``"source_id:ID"``,
        ``"hostname:HOST"`` or ``"index:N"`` (0-based position among the
        file's stream headers).
    channel_types
        Channel name -> type overrides, across all streams.
    irregular_sfreq
        Rate (Hz) irregular numeric streams are resampled to; default each
        stream's mean rate.

    Returns
    -------
    Recording
        One block per (stream, modality); markers with ``time`` in s on the
        LSL clock; ``info["xdf_streams"]`` summarising every stream read.

    Raises
    ------
    DataError
        Naming the file (and stream): not XDF, a corrupt chunk, unreadable
        by pyxdf, a channel count that disagrees with the stream header,
        non-finite or non-increasing stamps in an irregular stream, a
        selector in ``streams`` that matches no stream.
    """
    path = Path(path)
    notes: list[str] = []
    complete = check_chunks(path)
    source: Any = path
    if complete < path.stat().st_size:
        notes.append(f"{path.name}: the file ends inside a chunk at byte {complete} (truncated); read what precedes it")
        with path.open("rb") as f:
            source = io.BytesIO(f.read(complete))
    loaded, header = _load(path, source, notes)
    name_counts = Counter(_text(s["info"], "name") for s in loaded)

    signals: list[TimedSignal] = []
    markers: list[pd.DataFrame] = []
    summary = []
    used_overrides: set[str] = set()
    for index, stream in _select(loaded, streams, path):
        info = stream["info"]
        name, kind = _text(info, "name"), _text(info, "type")
        where = f"{path} stream {_identify(index, info) if name_counts[name] > 1 else repr(name)}"
        n = len(stream["time_stamps"])
        summary.append({"name": name, "type": kind, "samples": n, "nominal_srate": _text(info, "nominal_srate")})
        if n == 0:
            notes.append(f"{where}: no samples; dropped")
            continue
        stamps = np.asarray(stream["time_stamps"], dtype=float)
        if not np.all(np.isfinite(stamps)):
            raise DataError(f"{where}: non-finite time stamps")
        rate = _nominal_rate(info, where)
        if _text(info, "channel_format") == "string" or (rate == 0 and _MARKER_TYPE.search(kind)):
            markers.append(_events(stream, stamps))
            continue
        data = np.asarray(stream["time_series"], dtype=float)
        if data.ndim != 2 or data.shape[1] == 0 or n < 2:
            notes.append(f"{where}: {'a single sample' if n < 2 else 'no channels'}; dropped")
            continue
        labels, declared, units = _channels(info, data.shape[1], kind, name, where)
        wanted = {k: v for k, v in (channel_types or {}).items() if _names_channel(k, labels)}
        used_overrides |= set(wanted)
        plan = plan_channels(labels, declared, wanted, source=where)
        notes += plan.warnings
        if rate > 0:
            grid, sfreq, gaps = _regular(stamps, data, rate, info.get("segments"), where, notes)
        else:
            grid, sfreq, gaps = _irregular(stamps, data, irregular_sfreq, where, notes)
        for modality, picks in plan.groups().items():
            block = grid[:, picks].T * _unit_factors([units[i] for i in picks], modality, where, notes)[:, None]
            names = [plan.names[i] for i in picks]
            signals.append(TimedSignal(where, modality, names, block, sfreq, float(stamps[0]), gaps))
    unused = sorted(set(channel_types or {}) - used_overrides)
    if unused:
        raise DataError(f"{path}: channel_types names channels {unused} that no numeric stream has")
    table = pd.concat(markers, ignore_index=True) if markers else no_events()
    info_out = {"source": "xdf", "file": str(path), "xdf_header": header, "xdf_streams": summary, "warnings": notes}
    return Recording(subject, signals, table.sort_values("time", kind="stable").reset_index(drop=True), info_out)


# --------------------------------------------------------------------------- reading


class _Collect(logging.Handler):
    def __init__(self, notes: list[str], name: str) -> None:
        super().__init__(logging.WARNING)
        self.notes, self.name_ = notes, name

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(f"{self.name_}: pyxdf: {record.getMessage()}")


def _load(path: Path, source: Any, notes: list[str]) -> tuple[list[dict], dict]:
    logger = logging.getLogger("pyxdf.pyxdf")
    handler = _Collect(notes, path.name)
    propagate, level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # into the session's warnings, not onto the console
    try:
        return pyxdf.load_xdf(source, synchronize_clocks=True, dejitter_timestamps=True)
    except BiosigError:
        raise
    except Exception as exc:  # untrusted file: any failure inside pyxdf is bad data, not a bug of ours
        raise DataError(f"{path}: cannot read XDF ({type(exc).__name__}: {exc})") from exc
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _text(info: Mapping[str, Any], key: str) -> str:
    value = info.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value).strip()


def _select(streams: list[dict], wanted: Sequence[str] | str | None, path: Path) -> list[tuple[int, dict]]:
    """(index, stream) of the streams any selector in ``wanted`` matches (all when None), in file order."""
    indexed = list(enumerate(streams))
    if wanted is None:
        return indexed
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    missing = [w for w in wanted if not any(_matches(w, i, s["info"]) for i, s in indexed)]
    if missing:
        have = [f"{_identify(i, s['info'])} ({_text(s['info'], 'type')})" for i, s in indexed]
        raise DataError(
            f"{path}: no stream named or typed {missing}, nor matched by 'source_id:ID', 'hostname:HOST' or "
            f"'index:N'; it has {have}"
        )
    return [(i, s) for i, s in indexed if any(_matches(w, i, s["info"]) for w in wanted)]


def _matches(selector: str, index: int, info: Mapping[str, Any]) -> bool:
    """Whether ``selector`` (a name, a type, ``source_id:ID``, ``hostname:HOST``, ``index:N``) picks the stream."""
    if selector in (_text(info, "name"), _text(info, "type")):
        return True
    key, sep, value = str(selector).partition(":")
    key = key.strip().lower()
    if not sep or key not in _SELECTOR_KEYS:
        return False
    return value.strip() == (str(index) if key == "index" else _text(info, key))


def _identify(index: int, info: Mapping[str, Any]) -> str:
    """A stream's name with what tells it apart from same-named ones."""
    return (
        f"{_text(info, 'name')!r} (index {index}, source_id {_text(info, 'source_id')!r}, "
        f"hostname {_text(info, 'hostname')!r})"
    )


def _nominal_rate(info: Mapping[str, Any], where: str) -> float:
    try:
        rate = float(_text(info, "nominal_srate") or 0)
    except ValueError:
        rate = float("nan")
    if not (np.isfinite(rate) and rate >= 0):
        raise DataError(f"{where}: nominal_srate {_text(info, 'nominal_srate')!r} is not a rate in Hz")
    return rate


def _events(stream: Mapping[str, Any], stamps: np.ndarray) -> pd.DataFrame:
    values = stream["time_series"]
    descriptions = ["|".join(str(v).strip() for v in np.atleast_1d(sample)) for sample in values]
    return pd.DataFrame({"time": stamps, "description": descriptions})


def _channels(
    info: Mapping[str, Any], count: int, kind: str, name: str, where: str
) -> tuple[list[str], list[str | None], list[str | None]]:
    """Labels, declared types and units of a stream's channels (desc/channels, else generic)."""
    desc = info.get("desc")
    described: list[Any] = []
    if isinstance(desc, list) and desc and isinstance(desc[0], dict):
        block = desc[0].get("channels")
        if isinstance(block, list) and block and isinstance(block[0], dict):
            described = block[0].get("channel") or []
    if described and len(described) != count:
        raise DataError(f"{where}: the header declares {count} channels but describes {len(described)}")
    if not described:
        return [f"{name}_{i + 1}" for i in range(count)], [kind or None] * count, [None] * count
    labels = [_text(ch, "label") if isinstance(ch, dict) else "" for ch in described]
    labels = [label or f"{name}_{i + 1}" for i, label in enumerate(labels)]
    types = [(_text(ch, "type") if isinstance(ch, dict) else "") or kind or None for ch in described]
    units = [(_text(ch, "unit") if isinstance(ch, dict) else "") or None for ch in described]
    return labels, types, units


def _names_channel(key: str, labels: list[str]) -> bool:
    return key in labels or normalise_name(key) in {normalise_name(label) for label in labels}


def _unit_factors(units: list[str | None], modality: str, where: str, notes: list[str]) -> np.ndarray:
    """Factors to SI of one modality's channels; a unit-less ExG/EDA channel follows the XDF convention."""
    default = _DEFAULT_UNITS.get(modality)
    if default and None in units:
        notes.append(f"{where}: {units.count(None)} {modality.upper()} channels have no unit; taken as {default}")
    units = [default if u is None else u for u in units]
    unknown = sorted({u for u in units if u is not None and si_factor(u) is None})
    if unknown and default:
        notes.append(f"{where}: {modality.upper()} units {unknown} not recognised; values kept as stored")
    return np.array([si_factor(u) or 1.0 for u in units])


def _regular(
    stamps: np.ndarray, data: np.ndarray, rate: float, segments: Any, where: str, notes: list[str]
) -> tuple[np.ndarray, float, list[tuple[float, float]]]:
    """A regular stream on one sample grid: ``(n_times, n_channels)``, rate in Hz, gaps (onset s, duration s)."""
    segments = [(int(a), int(b)) for a, b in segments] if segments else [(0, len(stamps) - 1)]
    longest = max(segments, key=lambda seg: seg[1] - seg[0])
    sfreq = rate
    if longest[1] > longest[0]:
        measured = (longest[1] - longest[0]) / (stamps[longest[1]] - stamps[longest[0]])
        if not (np.isfinite(measured) and measured > 0):
            raise DataError(f"{where}: time stamps do not increase")
        if abs(measured / rate - 1) > _RATE_TOLERANCE:
            notes.append(f"{where}: measured rate {measured:.4f} Hz differs from the nominal {rate:g} Hz; using it")
            sfreq = float(measured)
    starts = [int(round((stamps[a] - stamps[0]) * sfreq)) for a, _ in segments]
    ends = [s + b - a + 1 for s, (a, b) in zip(starts, segments)]
    for k in range(1, len(segments)):
        if starts[k] < ends[k - 1]:
            raise DataError(
                f"{where}: segment {k + 1} starts at {stamps[segments[k][0]]:.3f} s, before segment {k} ends "
                "(time stamps go back)"
            )
    grid = np.full((ends[-1], data.shape[1]), np.nan)
    gaps = []
    for k, (a, b) in enumerate(segments):
        grid[starts[k] : ends[k]] = data[a : b + 1]
        if k and starts[k] > ends[k - 1]:
            gaps.append((ends[k - 1] / sfreq, (starts[k] - ends[k - 1]) / sfreq))
    if gaps:
        total = sum(d for _, d in gaps)
        notes.append(f"{where}: {len(gaps)} gap(s) of {total:.3f} s in total; NaN, marked BAD_ACQ_SKIP")
    return grid, sfreq, gaps


def _irregular(
    stamps: np.ndarray, data: np.ndarray, sfreq: float | None, where: str, notes: list[str]
) -> tuple[np.ndarray, float, list[tuple[float, float]]]:
    """An irregular stream linearly interpolated onto a regular grid."""
    steps = np.diff(stamps)
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0])
        raise DataError(
            f"{where}: irregular stream with non-increasing time stamps (sample {bad + 2} at {stamps[bad + 1]:.6f} s "
            f"after {stamps[bad]:.6f} s): cannot resample it"
        )
    span = stamps[-1] - stamps[0]
    rate = float(sfreq) if sfreq is not None else (len(stamps) - 1) / span
    if not (np.isfinite(rate) and rate > 0):
        raise DataError(f"{where}: irregular_sfreq must be a positive rate in Hz, got {sfreq!r}")
    times = stamps[0] + np.arange(int(np.floor(span * rate + 1e-9)) + 1) / rate
    grid = np.column_stack([np.interp(times, stamps, column) for column in data.T])
    notes.append(f"{where}: irregular stream linearly resampled to {rate:.6g} Hz")
    return grid, rate, []
