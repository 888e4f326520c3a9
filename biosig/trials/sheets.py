"""Label tables (CSV, TSV, XLSX) and the rows of one subject in them.

Shared by the trial tables of ``trials.from: table`` and the ratings of
``labels.ratings``. A table's subject cell matches a subject id by this rule:

1. cells equal to the id (spaces around and letter case ignored), if any;
2. otherwise cells with the same number at their end, when both end in
   digits and the cells' letters before it agree: ``"1"``, ``"01"``,
   ``"S01"`` and ``"sub-1"`` all name subject ``01`` (or ``S1``), as long as one
   spelling of the number is in the column (``"S01"`` and ``"P01"`` together is
   ambiguous and a :class:`~biosig.errors.DataError`).

The id is the ``subject`` field captured from the file's path when there is
one, else the session's subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from biosig.errors import ConfigError, DataError

#: How many subjects an error message lists.
LISTED = 10
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def read_sheet(path: Path, sheet: str | int | None, *, header: bool = True) -> pd.DataFrame:
    """The table at ``path`` (``.xlsx``/``.xls``: ``sheet``, default the first; ``.tsv``/``.txt``: tabs; else CSV).

    With ``header`` the first row names the columns; without it every row is
    data and the columns are numbered from 0.

    Raises
    ------
    ConfigError
        No such file (naming it and the working directory it is relative to).
    DataError
        The file cannot be parsed or has no such sheet (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such table (relative paths are relative to {Path.cwd()})")
    head = 0 if header else None
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=head)
        sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
        return pd.read_csv(path, sep=sep, header=head, dtype=str, keep_default_na=True)
    except (OSError, ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read the table ({type(exc).__name__}: {exc})") from exc


def subject_mask(cells: pd.Series, subject: str, path: Path, column: str) -> pd.Series:
    """Which of ``cells`` (a subject column) name ``subject`` (see the module's rule).

    Raises
    ------
    DataError
        No cell names the subject (naming the file, the column, the subject
        and listing the subjects present) or two spellings match by number.
    """
    text = cells.map(lambda c: "" if pd.isna(c) else str(c).strip().lower())
    wanted = str(subject).strip().lower()
    exact = text == wanted
    if exact.any():
        return exact
    number = _split(wanted)[1]
    hits = text.map(lambda c: number is not None and _split(c)[1] == number)
    if hits.any():
        if len({_split(c)[0] for c in text[hits]}) > 1:
            raise DataError(
                f"{path}: subject {subject!r} is ambiguous in column {column!r}: it matches "
                f"{sorted(set(text[hits]))} by number; spell it as the table does"
            )
        return hits
    present = sorted({str(c).strip() for c in cells.dropna()})
    more = f" and {len(present) - LISTED} more" if len(present) > LISTED else ""
    raise DataError(
        f"{path}: no rows for subject {subject} in column {column!r}; the table has subjects {present[:LISTED]}{more}"
    )


def require_columns(table: pd.DataFrame, columns: Sequence[str], path: Path, what: str) -> None:
    """ConfigError naming the file, the missing columns (and the config ``what``) and listing those present."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{what}: {path} has no column(s) {missing}; its columns are {[str(c) for c in table.columns]}"
        )


def _split(cell: str) -> tuple[str, int | None]:
    """A cell's letters before its trailing number, and the number (None without one)."""
    match = _TRAILING_NUMBER.match(cell)
    return (match.group(1), int(match.group(2))) if match else (cell, None)
