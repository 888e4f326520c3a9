"""The trial table of a read recording, and the Session built from its modality recordings.

Trials come from ``baseline/T01`` + ``stimulus/T01`` annotations (the
package's own convention; BrainVision's ``Comment/`` prefix allowed) merged
with a ``ratings`` table (DataFrame or CSV with ``trial``, ``valence``,
``arousal``, ``dominance``). Without ratings or such annotations the table is
empty, and a warning says why when the annotations were there.
"""

from __future__ import annotations

import re
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError
from biosig.io.channels import CORE_MODALITIES
from biosig.session import TARGETS, Session, empty_trials

# BrainVision files prefix a marker's type: "Comment/baseline/T01".
_TRIAL_EVENT = re.compile(r"^(?:Comment/)?(baseline|stimulus)/T(\d+)$")


def trials_from_annotations(annotations: mne.Annotations, first_time: float, source: str) -> pd.DataFrame | None:
    """Trial timing from ``baseline/T01`` and ``stimulus/T01`` annotations, or None when there are none.

    Parameters
    ----------
    annotations
        The recording's annotations.
    first_time
        Time of the recording's first sample on the annotations' scale, s
        (:attr:`mne.io.Raw.first_time`).
    source
        The file, for messages.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``trial``, ``baseline_onset``, ``baseline_duration``,
        ``stimulus_onset``, ``stimulus_duration`` (s), one row per trial.

    Raises
    ------
    DataError
        A trial with two baselines or stimuli, or with only one of them.
    """
    parts: dict[int, dict[str, tuple[float, float]]] = {}
    for onset, duration, description in zip(annotations.onset, annotations.duration, annotations.description):
        match = _TRIAL_EVENT.match(str(description))
        if not match:
            continue
        kind, trial = match.group(1), int(match.group(2))
        if kind in parts.setdefault(trial, {}):
            raise DataError(f"{source}: two {kind}/T{trial:02d} annotations")
        parts[trial][kind] = (float(onset - first_time), float(duration))
    if not parts:
        return None
    incomplete = sorted(t for t, p in parts.items() if len(p) < 2)
    if incomplete:
        raise DataError(f"{source}: trials {incomplete} have a baseline or a stimulus annotation but not both")
    rows = [
        {
            "trial": trial,
            "baseline_onset": p["baseline"][0],
            "baseline_duration": p["baseline"][1],
            "stimulus_onset": p["stimulus"][0],
            "stimulus_duration": p["stimulus"][1],
        }
        for trial, p in sorted(parts.items())
    ]
    return pd.DataFrame(rows)


def build_session(subject: str, raws: dict[str, mne.io.BaseRaw], info: dict[str, Any], ratings: Any) -> Session:
    """A Session from one recording per modality key, with the trial table of the first one's annotations.

    Parameters
    ----------
    subject
        Subject id.
    raws
        Modality key -> recording; ``eeg``, ``ecg``, ``eda`` fill the Session's
        fields, the other keys go to ``Session.extra``.
    info
        The session's ``info``; needs ``file`` and ``warnings`` (appended to).
    ratings
        None, a DataFrame or a CSV path with ``trial`` and the targets.

    Raises
    ------
    DataError
        Ratings without trial annotations, or ratings that do not match the trials.
    """
    first = next(iter(raws.values()))
    timing = trials_from_annotations(first.annotations, first.first_time, info["file"])
    trials = empty_trials()
    if timing is not None and ratings is not None:
        trials = timing.merge(_ratings(ratings, timing["trial"], info["file"]), on="trial")
    elif timing is not None:
        info["warnings"].append(
            f"{info['file']}: the annotations describe {len(timing)} trials but no ratings= was given; "
            "the trial table is empty (the timing stays in the annotations)"
        )
    elif ratings is not None:
        raise DataError(
            f"{info['file']}: ratings given but the recording has no baseline/Tnn + stimulus/Tnn annotations"
        )
    core = {m: raws.get(m) for m in CORE_MODALITIES}
    extra = {k: raw for k, raw in raws.items() if k not in CORE_MODALITIES}
    return Session(subject=subject, trials=trials, info=info, extra=extra, **core)


def _ratings(ratings: Any, trials: pd.Series, source: str) -> pd.DataFrame:
    """The ratings table for ``trials``: DataError naming what is missing, extra or not numeric."""
    if isinstance(ratings, pd.DataFrame):
        table, where = ratings, "ratings"
    else:
        where = str(ratings)
        try:
            table = pd.read_csv(ratings)
        except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"{where}: cannot read the ratings CSV ({exc})") from exc
    columns = ["trial", *TARGETS]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{where}: ratings lack columns {missing}; expected {columns}")
    table = table[columns].apply(pd.to_numeric, errors="coerce")
    if table.isna().any().any():
        rows = np.flatnonzero(table.isna().any(axis=1)).tolist()
        raise DataError(f"{where}: ratings have empty or non-numeric cells in rows {rows}")
    table["trial"] = table["trial"].astype(int)
    if table["trial"].duplicated().any():
        raise DataError(f"{where}: ratings repeat trials {sorted(set(table['trial'][table['trial'].duplicated()]))}")
    lacking = sorted(set(trials) - set(table["trial"]))
    surplus = sorted(set(table["trial"]) - set(trials))
    if lacking or surplus:
        raise DataError(
            f"{where}: ratings do not match the trials of {source}: no ratings for trials {lacking}, "
            f"ratings for trials the recording lacks {surplus}"
        )
    return table
