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
from biosig.errors import ConfigError, DataError
from biosig.session import CONDITION
from biosig.trials.sheets import read_sheet, require_columns, subject_mask


def merge_ratings(
    trials: pd.DataFrame, spec: RatingsTable, subject: str, fields: Mapping[str, str], path: Path
) -> pd.DataFrame:
    """``trials`` with the columns ``spec.columns`` of the subject's rows of the ratings table.

    With ``spec.match`` only the rows whose match columns equal the file's
    ``fields`` are used (cells and fields compared as text, ignoring case and
    spaces, or as numbers: ``"01"`` equals ``1``).

    Raises
    ------
    ConfigError
        A missing file or column, or a ``match`` field the path did not
        capture (naming them).
    DataError
        The subject is not in the table, no row matches the file's fields,
        trials of the recording have no row,
        a trial has two rows, or a cell is not numeric; each naming the
        table, the subject and the trials or cells.
    """
    table = read_sheet(spec.path, spec.sheet)
    table.columns = [str(c).strip() for c in table.columns]
    keys = [spec.subject_column, spec.trial_column, *spec.match.values(), *spec.columns]
    require_columns(table, keys, spec.path, "labels.ratings")
    ident = str(fields.get("subject") or subject)
    where = f"{spec.path} (subject {ident}, for {path})"
    rows = table[subject_mask(table[spec.subject_column], ident, spec.path, spec.subject_column)]
    for field, column in spec.match.items():
        rows = _matching(rows, column, field, fields, where, path)
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


def _matching(
    rows: pd.DataFrame, column: str, field: str, fields: Mapping[str, str], where: str, path: Path
) -> pd.DataFrame:
    """The ``rows`` whose ``column`` equals the file's ``field`` (see :func:`merge_ratings`)."""
    if field not in fields:
        raise ConfigError(
            f"labels.ratings.match: no field {field!r} was captured from {path} (its fields are {sorted(fields)})"
        )
    wanted = _cell_key(fields[field])
    hits = rows[column].map(_cell_key) == wanted
    if not hits.any():
        present = sorted({str(c).strip() for c in rows[column].dropna()})
        raise DataError(f"{where}: no rows with {column} = {fields[field]!r}; the subject's rows have {present}")
    return rows[hits]


def _cell_key(cell: object) -> str:
    """A cell or field as compared by ``match``: a number's value (``"01"``, ``1``, ``1.0``), else lower-case text."""
    text = "" if pd.isna(cell) else str(cell).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number)
