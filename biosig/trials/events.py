"""Events on the session clock: from annotations, a stim channel or threshold crossings.

Every function returns a :class:`pandas.DataFrame` with ``onset`` (s on the
session clock, t = 0 at the first sample) and ``name`` (the ``event_id``
key the event matched, or the threshold's event name), sorted by onset.

* :func:`annotation_events`: the recordings' MNE annotations (MNE files,
  XDF marker streams, E4 tags and BIDS ``events.tsv`` all arrive as
  annotations). The same annotation copied onto several modalities counts
  once. A description matches an ``event_id`` value when equal to it (an
  int code compares as its decimal text) or, with ``regex``, when the
  regular expression matches the whole description.
* :func:`stim_events`: :func:`mne.find_events` on a stim channel, codes
  mapped through ``event_id``.
* :func:`threshold_events`: the samples where an analog channel crosses a
  threshold (rising or falling edge), a crossing within ``min_gap`` s of the
  previous kept event ignored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from biosig.config.trials import ThresholdEvents
from biosig.errors import ConfigError, DataError
from biosig.session import Session

#: How many distinct descriptions an error message lists.
LISTED = 10


def annotation_events(session: Session, event_id: Mapping[str, int | str], regex: bool, path: Path) -> pd.DataFrame:
    """Events from the annotations of every recording of ``session`` that match ``event_id``.

    Raises
    ------
    ConfigError
        A regular expression that does not compile (naming the key).
    DataError
        An ``event_id`` entry that matches no annotation, naming the file,
        the key and listing the descriptions present.
    """
    counts = _annotation_counts(session)
    descriptions = sorted({d for _, d in counts})
    matchers = {key: _matcher(key, value, regex) for key, value in event_id.items()}
    rows = []
    for key, match in matchers.items():
        hits = [(onset, d) for onset, d in counts if match(d)]
        if not hits:
            raise DataError(
                f"{path}: trials.event_id {key!r} ({event_id[key]!r}{', regex' if regex else ''}) matches no "
                f"event; the recording's event descriptions are {_listing(descriptions, counts)}"
            )
        rows += [(onset, key) for onset, d in hits for _ in range(counts[(onset, d)])]
    return _frame(rows)


def stim_events(session: Session, channel: str, event_id: Mapping[str, int | str] | None, path: Path) -> pd.DataFrame:
    """Events from the steps of stim channel ``channel`` (:func:`mne.find_events`), named through ``event_id``.

    Without ``event_id`` an event is named by its code. Raises
    :class:`~biosig.errors.DataError` naming the file and channel when the
    channel is missing (listing the channels) or an ``event_id`` code occurs
    nowhere (listing the codes present).
    """
    raw = _raw_with(session, channel, path)
    found = mne.find_events(raw, stim_channel=channel, shortest_event=1, consecutive=True, verbose="error")
    onsets = (found[:, 0] - raw.first_samp) / raw.info["sfreq"]
    codes = found[:, 2]
    if event_id is None:
        return _frame([(o, str(c)) for o, c in zip(onsets, codes)])
    rows = []
    for key, value in event_id.items():
        code = _code(key, value)
        hits = onsets[codes == code]
        if not hits.size:
            raise DataError(
                f"{path}: trials.event_id {key!r} (code {code}) occurs nowhere on stim channel {channel!r}; "
                f"its codes are {sorted(set(codes.tolist()))[:LISTED]}"
            )
        rows += [(o, key) for o in hits]
    return _frame(rows)


def threshold_events(session: Session, spec: ThresholdEvents, path: Path) -> pd.DataFrame:
    """Events where ``spec.channel`` crosses ``spec.threshold`` on ``spec.edge``, named ``spec.name``.

    The event is the first sample at or past the threshold; a crossing less
    than ``spec.min_gap`` s after the previous kept event is ignored. NaN
    samples (gaps) never cross.
    """
    raw = _raw_with(session, spec.channel, path)
    x = raw.get_data(picks=[spec.channel])[0]
    before, after = x[:-1], x[1:]
    if spec.edge == "rising":
        crossing = (before < spec.threshold) & (after >= spec.threshold)
    else:
        crossing = (before > spec.threshold) & (after <= spec.threshold)
    onsets = (np.flatnonzero(crossing) + 1) / raw.info["sfreq"]
    kept: list[float] = []
    for onset in onsets:  # over crossings, not samples: each gap depends on the previous kept event
        if not kept or onset - kept[-1] >= spec.min_gap:
            kept.append(float(onset))
    return _frame([(o, spec.name) for o in kept])


def _annotation_counts(session: Session) -> Counter[tuple[float, str]]:
    """(onset s, description) -> how many times it occurs, the most any one recording has it."""
    total: Counter[tuple[float, str]] = Counter()
    for raw in session.modalities().values():
        ann = raw.annotations
        onsets = np.round(np.asarray(ann.onset, dtype=float) - raw.first_time, 6)
        here = Counter(zip(onsets.tolist(), (str(d) for d in ann.description)))
        total |= here
    return total


def _matcher(key: str, value: int | str, regex: bool):
    if not regex:
        text = str(value)
        return lambda description: description == text
    try:
        pattern = re.compile(str(value))
    except re.error as exc:
        raise ConfigError(f"trials.event_id.{key}: {value!r} is not a regular expression ({exc})") from exc
    return lambda description: pattern.fullmatch(description) is not None


def _code(key: str, value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"trials.event_id.{key}: {value!r} is no integer code, which a stim channel needs"
        ) from exc


def _listing(descriptions: list[str], counts: Counter[tuple[float, str]]) -> str:
    if not descriptions:
        return "none (the recording has no annotations)"
    per = Counter()
    for (_, d), n in counts.items():
        per[d] += n
    shown = ", ".join(f"{d!r} (x{per[d]})" for d in descriptions[:LISTED])
    more = f" and {len(descriptions) - LISTED} more" if len(descriptions) > LISTED else ""
    return shown + more


def _raw_with(session: Session, channel: str, path: Path) -> mne.io.BaseRaw:
    for raw in session.modalities().values():
        if channel in raw.ch_names:
            return raw
    names = sorted(ch for raw in session.modalities().values() for ch in raw.ch_names)
    raise DataError(f"{path}: no channel {channel!r} for trial events; the recording has {names}")


def _frame(rows: list[tuple[float, str]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["onset", "name"]).astype({"onset": float, "name": str})
    return table.sort_values("onset", kind="stable").reset_index(drop=True)
