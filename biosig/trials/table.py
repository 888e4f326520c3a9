"""Trials from a label table (``trials.from: table``): task logs and onset/duration tables.

:func:`table_trials` reads ``trials.table`` (layouts ``rows`` and
``subject_rows``, see :class:`~biosig.config.trials.TableTrials`), keeps the
subject's rows (:mod:`biosig.trials.sheets` gives the matching rule), turns
onsets and ends into seconds on the session clock (times of day through
:mod:`biosig.trials.clock_times`), and labels each trial with the table's
label mapped through ``labels.map`` when given. Trials are numbered 1..n in
onset order. A trial partly outside the recording is cut to it, one wholly
outside is left out, both with a note; a trial without length is left out
with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biosig.config.trials import LabelsConfig, TableTrials
from biosig.errors import ConfigError, DataError
from biosig.session import Session
from biosig.trials.build import recording_length, trial_table
from biosig.trials.clock_times import end_on_clock, onset_on_clock, parse_time_of_day, start_of_day
from biosig.trials.sheets import read_sheet, require_columns, subject_mask


def table_trials(
    session: Session, spec: TableTrials, labels: LabelsConfig, fields: Mapping[str, str], path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """The trial table of the recording at ``path`` from ``spec``, and notes on trials cut or left out.

    Raises
    ------
    ConfigError
        A missing table, column or header cell; a label ``labels.map`` does not map.
    DataError
        The subject is not in the table (naming it and listing those present),
        or a cell that is no number or time (naming the table, subject, label and cell).
    """
    subject = str(fields.get("subject") or session.subject)
    where = f"{spec.path} (subject {subject}, for {path})"
    raw_rows = _subject_rows(spec, subject)
    raw_rows["label"] = raw_rows["label"].map(lambda c: "" if pd.isna(c) else str(c).strip())
    notes: list[str] = []
    if spec.keep_labels is not None:
        keep = raw_rows["label"].isin(spec.keep_labels)
        if not keep.any():
            raise DataError(
                f"{where}: no trial has a label in trials.table.keep_labels {list(spec.keep_labels)}; "
                f"the labels are {sorted(set(raw_rows['label']))}"
            )
        if (~keep).any():
            notes.append(f"{where}: labels {sorted(set(raw_rows.loc[~keep, 'label']))} not in keep_labels; left out")
        raw_rows = raw_rows[keep]
    onsets, ends = _seconds(raw_rows, spec, session, path, where)
    conditions = [_mapped(label, labels, where) for label in raw_rows["label"]]
    order = np.argsort(onsets, kind="stable")
    onsets, ends = onsets[order], ends[order]
    conditions = [conditions[i] for i in order]
    length = recording_length(session)
    keep_rows, starts, stops = [], [], []
    for i, (start, end, label) in enumerate(zip(onsets, ends, conditions)):
        cut_start, cut_end = max(start, 0.0), min(end, length)
        if cut_end <= cut_start:
            why = "has no length" if end <= start else f"falls outside the recording (0 to {length:.2f} s)"
            notes.append(f"{where}: {label!r} from {start:.2f} s to {end:.2f} s {why}; left out")
            continue
        if (cut_start, cut_end) != (start, end):
            notes.append(
                f"{where}: {label!r} from {start:.2f} s to {end:.2f} s cut to the recording "
                f"({cut_start:.2f} s to {cut_end:.2f} s)"
            )
        keep_rows.append(i)
        starts.append(cut_start)
        stops.append(cut_end)
    if not keep_rows:
        raise DataError(f"{where}: no trial of the table lies within the recording {path} (0 to {length:.2f} s)")
    starts_a, stops_a = np.asarray(starts), np.asarray(stops)
    table = trial_table(
        np.arange(1, len(keep_rows) + 1),
        starts_a,
        stops_a - starts_a,
        starts_a,
        np.zeros(len(keep_rows)),
        [conditions[i] for i in keep_rows],
    )
    return table, notes


def _subject_rows(spec: TableTrials, subject: str) -> pd.DataFrame:
    """The subject's trials as columns ``label``, ``onset`` and ``end`` or ``duration`` (cells as read)."""
    end_key = "end" if spec.end_column is not None else "duration"
    end_name = spec.end_column if spec.end_column is not None else spec.duration_column
    if spec.layout == "rows":
        table = read_sheet(spec.path, spec.sheet)
        table.columns = [str(c).strip() for c in table.columns]
        columns = [spec.subject_column, spec.onset_column, str(end_name), spec.label_column]
        require_columns(table, columns, spec.path, "trials.table")
        rows = table[subject_mask(table[spec.subject_column], subject, spec.path, spec.subject_column)]
        return pd.DataFrame(
            {
                "label": rows[spec.label_column].to_numpy(),
                "onset": rows[spec.onset_column].to_numpy(),
                end_key: rows[str(end_name)].to_numpy(),
            }
        )
    cells = read_sheet(spec.path, spec.sheet, header=False)
    if len(cells) < 3:
        raise ConfigError(
            f"trials.table: {spec.path} needs two header rows and a row per subject (layout subject_rows)"
        )
    labels = cells.iloc[0].map(lambda c: None if pd.isna(c) else str(c).strip()).ffill()
    kinds = cells.iloc[1].map(lambda c: None if pd.isna(c) else str(c).strip())
    subject_cols = [j for j, c in enumerate(cells.iloc[0]) if str(c).strip() == spec.subject_column]
    if not subject_cols:
        raise ConfigError(
            f"trials.table.subject_column: {spec.path}'s first row has no cell {spec.subject_column!r}; "
            f"it has {[str(c) for c in cells.iloc[0].dropna()]}"
        )
    body = cells.iloc[2:]
    row = body[subject_mask(body.iloc[:, subject_cols[0]], subject, spec.path, spec.subject_column)]
    if len(row) > 1:
        raise DataError(
            f"{spec.path}: {len(row)} rows for subject {subject!r} (layout subject_rows needs one)"
        )
    out = []
    for j in np.flatnonzero(kinds.to_numpy() == spec.onset_column):
        same = (labels.to_numpy() == labels.iloc[j]) & (kinds.to_numpy() == end_name)
        pair = [k for k in np.flatnonzero(same) if k > j]
        if not pair:
            raise ConfigError(
                f"trials.table: {spec.path} has an onset column {spec.onset_column!r} under {labels.iloc[j]!r} "
                f"but no {end_name!r} column after it under the same label"
            )
        out.append({"label": labels.iloc[j], "onset": row.iat[0, j], end_key: row.iat[0, pair[0]]})
    if not out:
        raise ConfigError(
            f"trials.table.onset_column: {spec.path}'s second row has no cell {spec.onset_column!r}; "
            f"it has {sorted(set(kinds.dropna()))}"
        )
    return pd.DataFrame(out)


def _seconds(
    rows: pd.DataFrame, spec: TableTrials, session: Session, path: Path, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and ends of ``rows`` in s on the session clock."""
    has_end = "end" in rows
    if not spec.time_of_day:
        what = "end" if has_end else "duration"
        onsets = np.array([_number(c, label, "onset", where) for c, label in zip(rows["onset"], rows["label"])])
        other = np.array([_number(c, label, what, where) for c, label in zip(rows.iloc[:, 2], rows["label"])])
        return onsets, (other if has_end else onsets + other)
    start = start_of_day(session, path)
    onsets, ends = [], []
    for label, onset_cell, other_cell in zip(rows["label"], rows["onset"], rows.iloc[:, 2]):
        onset = onset_on_clock(*_time(onset_cell, label, "onset", where), start)
        if has_end:
            ends.append(end_on_clock(*_time(other_cell, label, "end", where), start, onset))
        else:
            ends.append(onset + _number(other_cell, label, "duration", where))
        onsets.append(onset)
    return np.asarray(onsets), np.asarray(ends)


def _time(cell: Any, label: str, what: str, where: str) -> tuple[float, float]:
    parsed = parse_time_of_day(cell)
    if parsed is None:
        raise DataError(f"{where}: the {what} of {label!r} is {cell!r}, not a time of day (HH:MM[:SS])")
    return parsed


def _number(cell: Any, label: str, what: str, where: str) -> float:
    value = pd.to_numeric(pd.Series([cell]), errors="coerce").iloc[0]
    if not np.isfinite(value):
        raise DataError(f"{where}: the {what} of {label!r} is {cell!r}, not a number of seconds")
    return float(value)


def _mapped(label: str, labels: LabelsConfig, where: str) -> str:
    text = str(label)
    if not text:
        raise DataError(f"{where}: a trial without a label")
    if labels.map is None:
        return text
    if text not in labels.map:
        raise ConfigError(
            f"labels.map: {where} has the label {text!r}, which labels.map does not map; "
            f"labels.map is {dict(labels.map)}"
        )
    return labels.map[text]
