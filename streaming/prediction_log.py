"""The prediction log of a live session: every window's prediction to CSV or Parquet, readable after any kill.

Rows (:data:`LOG_COLUMNS`): LSL stamps of the window's last and first
samples, window and segment numbers, the affect channels
(:data:`~streaming.outlet.AFFECT_CHANNELS`), and the quality reasons joined
with ``"; "``.

**A kill at any moment leaves what was written readable.** Rows are written
as CSV, appended and flushed batch by batch (each flush ends on a complete
row), so a SIGKILL or a power cut loses at most the rows still queued:

* ``.csv`` logs are that file;
* ``.parquet`` logs are journalled to ``NAME.parquet.partial.csv`` while the
  session runs and converted to ``NAME.parquet`` (written beside it, then
  renamed over it) when the log closes: at a clean stop, Ctrl-C or SIGTERM
  (:func:`biosig.signals.sigterm_as_interrupt`), after which the journal is
  deleted. A Parquet file's footer is written last, so a Parquet file being
  written is never readable; the journal is. After a SIGKILL the rows are in
  the journal (``pandas.read_csv``); a new log refuses to start while a
  journal is left at its path, so it is never overwritten.
"""

from __future__ import annotations

import csv
import math
import os
import threading
from pathlib import Path
from typing import Any

from biosig.errors import ConfigError
from streaming.online import WindowResult
from streaming.outlet import AFFECT_CHANNELS, DropOldestQueue, affect_row

#: Columns of the prediction log.
LOG_COLUMNS: tuple[str, ...] = ("timestamp", "t_first", "window", "segment", *AFFECT_CHANNELS, "reasons")


def journal_path(path: str | Path) -> Path:
    """Where the rows of the Parquet log ``path`` are journalled until it closes: ``NAME.parquet.partial.csv``."""
    path = Path(path)
    return path.with_name(path.name + ".partial.csv")


class PredictionLog(threading.Thread):
    """Writes every window's prediction to CSV (``.csv``) or Parquet (``.parquet``) on its own thread.

    Rows come through a :class:`~streaming.outlet.DropOldestQueue` of
    ``queue_size``, so a slow disk drops rows (counted in :attr:`dropped`)
    rather than delaying predictions. Rows are appended to the CSV (the log or
    the Parquet log's journal) and flushed in batches of at most ``batch``
    rows as they come; :attr:`written` counts the flushed rows. The Parquet
    file is complete once :meth:`close` returns (module docstring).

    Raises
    ------
    ConfigError
        Another suffix than ``.csv``/``.parquet``, or a Parquet log whose
        journal from a killed session is still there.
    """

    def __init__(self, path: str | Path, queue_size: int = 4096, batch: int = 256) -> None:
        super().__init__(name="biosig-prediction-log", daemon=True)
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise ConfigError(f"prediction log {self.path}: use a .csv or .parquet file name")
        self.format = suffix[1:]
        self.journal = self.path if self.format == "csv" else journal_path(self.path)
        if self.format == "parquet" and self.journal.exists():
            raise ConfigError(
                f"prediction log {self.path}: {self.journal} holds the rows of a session that was killed; "
                "move or delete it first (pandas.read_csv reads it)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.queue = DropOldestQueue(queue_size)
        self.batch = batch
        self.written = 0
        self.error: BaseException | None = None

    @property
    def dropped(self) -> int:
        """Rows dropped because the writer fell behind."""
        return self.queue.dropped

    def put(self, result: WindowResult) -> None:
        """Queue one window's row (never blocks)."""
        row = [result.t_last, result.t_first, result.index, result.segment, *affect_row(result)]
        self.queue.put([*row, "; ".join(result.reasons)])

    def close(self) -> None:
        """Write the remaining rows and close the file (joins the thread); a Parquet log is converted now."""
        self.queue.close()
        self.join()

    def run(self) -> None:
        try:
            self._write_csv(self.journal)
            if self.format == "parquet":
                write_parquet(self.journal, self.path)
                self.journal.unlink()
        except BaseException as exc:  # noqa: BLE001 - reported by the session
            self.error = exc

    def _rows(self, limit: int) -> list[list[Any]]:
        """Up to ``limit`` rows: waits for the first, then takes what is queued; [] once closed and drained."""
        try:
            rows = [self.queue.get()]
        except EOFError:
            return []
        while len(rows) < limit:
            try:
                rows.append(self.queue.get(timeout=0))
            except (TimeoutError, EOFError):
                break
        return rows

    def _write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(LOG_COLUMNS)
            handle.flush()
            while rows := self._rows(self.batch):
                writer.writerows([_csv_value(v) for v in row] for row in rows)
                handle.flush()
                self.written += len(rows)


def write_parquet(journal: Path, path: Path) -> None:
    """Convert a log journal (CSV of :data:`LOG_COLUMNS`) to the Parquet file ``path``, replaced atomically.

    Stamps are float64, window and segment int64, the affect channels float32
    (empty cells: NaN), the reasons strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("timestamp", pa.float64()), ("t_first", pa.float64()), ("window", pa.int64()), ("segment", pa.int64())]
        + [(name, pa.float32()) for name in AFFECT_CHANNELS]
        + [("reasons", pa.string())]
    )
    convert = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=False)
    table = pacsv.read_csv(journal, convert_options=convert)
    columns = [
        pc.fill_null(table[name], float("nan")) if pa.types.is_floating(field.type) else table[name]
        for name, field in zip(schema.names, schema, strict=True)
    ]
    partial = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(pa.table(columns, schema=schema), partial)
    os.replace(partial, path)


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value
