"""Progress bars of a run: subjects, combinations, folds and epochs (with the current validation loss).

:class:`RunProgress` wraps one :class:`rich.progress.Progress` so that a long
run never sits silent: the runner opens bars for the subjects being loaded,
:func:`~graphs.training.experiment.run_experiment` one for the model x target
x task x protocol combinations, one for the folds of the current combination
(permutation reruns included) and one for the epochs of the current fold,
whose description shows the last validation loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


class RunProgress:
    """Bars of one run on ``console``; each bar is created on first use and reset per phase."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(*COLUMNS, console=console or Console(), transient=False)
        self._bars: dict[str, TaskID] = {}

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, bar: str, description: str, total: int | None) -> None:
        """(Re)start ``bar`` (e.g. ``"folds"``) at 0 of ``total`` with ``description``."""
        if bar in self._bars:
            self.progress.reset(self._bars[bar], total=total, description=description, visible=True)
        else:
            self._bars[bar] = self.progress.add_task(description, total=total)

    def advance(self, bar: str, description: str | None = None) -> None:
        """One step of ``bar`` (created without a total when new), optionally with a new description."""
        if bar not in self._bars:
            self.start(bar, description or bar, None)
        self.progress.update(self._bars[bar], advance=1, description=description)

    def epoch(self, fold: str, epoch: int, val_loss: float | None) -> None:
        """The trainer's ``on_epoch`` callback: one epoch of ``fold`` done, its validation loss shown."""
        loss = "-" if val_loss is None else f"{val_loss:.4f}"
        self.advance("epochs", f"  epochs of {fold} (val loss {loss})")

    @contextmanager
    def status(self, description: str) -> Iterator[None]:
        """A line without a total (e.g. cutting windows) for the duration of a block."""
        bar = self.progress.add_task(description, total=None)
        try:
            yield
        finally:
            self.progress.update(bar, total=1, completed=1)
