"""Ratings (or any numeric labels) per subject and trial merged into a trial table (``labels.ratings``).

The table (CSV, TSV or XLSX) has a subject column, a trial column (the trial
numbers of the trial table) and the named columns. A column named
``condition`` is the trial's categorical label and replaces the one the
trials came with; the others must be numeric (empty cells are NaN) and
replace the rating of the same name (``valence``, ``arousal``,
``dominance``) or become extra trial columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from biosig.config.trials import RatingsTable
from biosig.errors import DataError
from biosig.session import CONDITION
from biosig.trials.sheets import read_sheet, require_columns, subject_mask


def merge_ratings(
    trials: pd.DataFrame, spec: RatingsTable, subject: str, fields: Mapping[str, str], path: Path
) -> pd.DataFrame:
    """``trials`` with the columns ``spec.columns`` of the subject's rows of the ratings table.

    Raises
    ------
    ConfigError
        A missing file or column (naming them).
    DataError
        The subject is not in the table, trials of the recording have no row,
        a trial has two rows, or a cell is not numeric; each naming the
        table, the subject and the trials or cells.
    """
    table = read_sheet(spec.path, spec.sheet)
    table.columns = [str(c).strip() for c in table.columns]
    require_columns(table, [spec.subject_column, spec.trial_column, *spec.columns], spec.path, "labels.ratings")
    ident = str(fields.get("subject") or subject)
    where = f"{spec.path} (subject {ident}, for {path})"
    rows = table[subject_mask(table[spec.subject_column], ident, spec.path, spec.subject_column)]
    numbers = pd.to_numeric(rows[spec.trial_column], errors="coerce")
    if numbers.isna().any() or (numbers % 1 != 0).any():
        bad = rows.loc[numbers.isna() | (numbers % 1 != 0), spec.trial_column].tolist()
        raise DataError(f"{where}: trial column {spec.trial_column!r} has cells that are no trial number: {bad}")
    rows = rows.assign(**{spec.trial_column: numbers.astype(int)})
    repeated = sorted(set(rows.loc[rows[spec.trial_column].duplicated(), spec.trial_column]))
    if repeated:
        raise DataError(f"{where}: trials {repeated} have more than one row")
    missing = sorted(set(trials["trial"]) - set(rows[spec.trial_column]))
    if missing:
        present = sorted(rows[spec.trial_column])
        raise DataError(f"{where}: no rows for trials {missing} (the table has trials {present})")
    by_trial = rows.set_index(spec.trial_column).loc[trials["trial"].to_numpy()]
    out = trials.copy()
    for column in spec.columns:
        cells = by_trial[column]
        if column == CONDITION:
            out[CONDITION] = cells.map(lambda c: "" if pd.isna(c) else str(c).strip()).to_numpy()
            continue
        values = pd.to_numeric(cells, errors="coerce")
        bad = values.isna() & cells.notna() & (cells.astype(str).str.strip() != "")
        if bad.any():
            raise DataError(
                f"{where}: column {column!r} is not numeric for trials {list(cells.index[bad])}: "
                f"{cells[bad].tolist()[:10]}"
            )
        out[column] = values.to_numpy(dtype=float)
    return out
