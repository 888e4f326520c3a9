"""Whole-recording trials (``trials.from: recording``) and conditions from path fields.

The recording is one trial (stimulus window = the whole recording, from 0 s
to the end of its shortest modality), or, with ``block_seconds``,
consecutive blocks of that length numbered 1..n (a tail shorter than a
block is left out with a note). No trial has a baseline window. The
condition, when ``labels.from_field`` is set, is that field captured from the
file's path (``source.pattern``), mapped through ``labels.map`` when given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.errors import ConfigError, DataError
from biosig.session import Session
from biosig.trials.build import recording_length, trial_table


def recording_trials(
    session: Session, trials: TrialsConfig, labels: LabelsConfig, fields: Mapping[str, str], path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """The whole-recording (or block) trial table of ``session`` and notes on the left-out tail.

    Raises
    ------
    DataError
        A recording shorter than one block (naming the file and lengths).
    ConfigError
        See :func:`field_condition`.
    """
    condition = field_condition(labels, fields, path)
    length = recording_length(session)
    notes = []
    if trials.block_seconds is None:
        onsets, duration = np.array([0.0]), length
    else:
        duration = trials.block_seconds
        n = int(np.floor(length / duration + 1e-9))
        if n == 0:
            raise DataError(
                f"{path}: the recording lasts {length:.2f} s, shorter than one block "
                f"(trials.block_seconds = {duration} s)"
            )
        onsets = np.arange(n) * duration
        tail = length - n * duration
        if tail > 1e-6:
            notes.append(f"{path}: the last {tail:.2f} s, shorter than a block of {duration} s, is in no trial")
    table = trial_table(
        np.arange(1, len(onsets) + 1),
        onsets,
        np.full(len(onsets), duration),
        onsets,
        np.zeros(len(onsets)),
        None if condition is None else [condition] * len(onsets),
    )
    return table, notes


def field_condition(labels: LabelsConfig, fields: Mapping[str, str], path: Path) -> str | None:
    """The condition ``labels.from_field`` gives the file at ``path``, or None without ``from_field``.

    Raises
    ------
    ConfigError
        The field is not among the fields captured from the path (naming it
        and those available), or its value is not a key of ``labels.map``
        (naming the value and the map).
    """
    if labels.from_field is None:
        return None
    if labels.from_field not in fields:
        raise ConfigError(
            f"labels.from_field: {path} has no field {labels.from_field!r}; the fields source.pattern "
            f"captures are {sorted(fields)}"
        )
    value = str(fields[labels.from_field])
    if labels.map is None:
        return value
    if value not in labels.map:
        raise ConfigError(
            f"labels.map: {path} has {labels.from_field} = {value!r}, which labels.map does not map; "
            f"labels.map is {dict(labels.map)}"
        )
    return labels.map[value]
