"""HiSTN's published recipe on the deep-model folds: random crops, the shared checkpoint, the authors' metrics.

Three options of a run, each off by default (:class:`~biosig.config.TrainConfig`,
:class:`~biosig.config.EvaluationConfig`), reproduce how the HiSTN code trains
and scores (``Dreamer_10cv.py``; the README's HiSTN section):

* ``train.sampling: crops``: :func:`fold_jobs` gives each fold's job a
  :class:`~graphs.training.crops.CropSampler` over the fold's trial records
  (rebuilt from the raw windows by :func:`trial_records`), so training
  batches are class-balanced random crops that may start at any sample the
  fold allows: for ``histn_blocks`` the authors' spans
  (:func:`~graphs.training.crops.histn_crop_spans`), for the other protocols
  the samples the fold's training windows cover. Validation and test sets
  become ``train.crops.val`` and ``train.crops.test`` balanced crops of the
  held-out windows' samples (``test: null`` keeps the grid windows);
* ``train.shared_best: true``: the folds of each subject (LOSO: all folds)
  share one :class:`~graphs.training.trainer.BestTracker`, the authors'
  reused ``ModelCheckpoint``;
* ``evaluation.authors_metrics: true``: :func:`authors_fold_scores` adds the
  authors' variants of the scores, ``authors_<name>``, beside ours, and
  :func:`recipe_notes` states them in the report as the authors compute them.

Each fold's test rows are described by a table (:func:`fold_jobs` fills it):
``subject``, ``trial``, ``offset`` (s from the record's start), ``fold``,
``row`` (the window's row, -1 for a test crop) and ``label`` (class index,
or the regression target).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from biosig.config import ModelSpec, RunConfig
from biosig.errors import ConfigError, DataError
from graphs.training.crops import CropSampler, histn_crop_spans
from graphs.training.folds import FoldJob, make_fold_job
from graphs.training.ordinal_metrics import authors_average, authors_scores
from graphs.training.splits import Fold
from graphs.training.trainer import BestTracker
from graphs.training.windows_dataset import WindowSet

#: The authors' scores (:func:`~graphs.training.ordinal_metrics.authors_scores`) that need more than two classes.
ORDINAL_ONLY = ("top2_accuracy", "seq2hr", "tri_p")


class TrialRecords(NamedTuple):
    """The trial records under a set of raw windows.

    Attributes
    ----------
    x
        ``(n_records, n_channels, n_samples)`` float32, the windows' values (after max-normalisation).
    subject, trial
        ``(n_records,)`` subject and trial of each record.
    of_row
        ``(n_windows,)`` record of each window row.
    first
        ``(n_windows,)`` first sample of each window in its record.
    crop_samples
        Samples per window, the crop length.
    sfreq
        Sampling rate, Hz.
    """

    x: np.ndarray
    subject: np.ndarray
    trial: np.ndarray
    of_row: np.ndarray
    first: np.ndarray
    crop_samples: int
    sfreq: float


def trial_records(data: WindowSet) -> TrialRecords:
    """Rebuild each trial's record from raw windows that cover it (hop <= length).

    Raises
    ------
    ConfigError
        Inputs other than raw EEG windows, peripheral features (a crop has
        none), or windows leaving part of a record uncovered.
    """
    if data.dims != ("channel", "time") or data.peripheral is not None:
        raise ConfigError(
            f"train.sampling: crops cuts raw EEG windows (HiSTN, EEGNet) without peripheral features; got {data.dims} inputs"
        )
    meta = data.meta
    of_row = meta.groupby(["subject", "trial"], sort=False).ngroup().to_numpy()
    _ids, first_row = np.unique(of_row, return_index=True)
    n_samples = int(round(data.settings.record_seconds * data.sfreq))
    crop = data.x.shape[2]
    first = np.round(meta["offset"].to_numpy() * data.sfreq).astype(np.int64)
    if (first < 0).any() or (first + crop > n_samples).any():
        raise DataError(f"windows reach outside the {n_samples}-sample records")
    x = np.zeros((len(first_row), data.x.shape[1], n_samples), dtype=np.float32)
    covered = np.zeros((len(first_row), n_samples), dtype=bool)
    idx = first[:, None] + np.arange(crop)[None, :]
    # Advanced indices on axes 0 and 2 go first: (n_windows, crop, n_channels).
    x[of_row[:, None], :, idx] = np.moveaxis(data.x, 1, 2)
    covered[of_row[:, None], idx] = True
    if not covered.all():
        raise ConfigError("train.sampling: crops needs windows that cover each record (windows.hop <= windows.length)")
    rows = meta.iloc[first_row]
    return TrialRecords(x, rows["subject"].to_numpy(), rows["trial"].to_numpy(), of_row, first, crop, float(data.sfreq))


def fold_jobs(
    data: WindowSet,
    y: np.ndarray,
    n_classes: int,
    spec: ModelSpec,
    combination: tuple[str, str, str],
    folds: Sequence[Fold],
    config: RunConfig,
    seed: int,
    tested: list[pd.DataFrame],
) -> Iterator[FoldJob]:
    """:func:`~graphs.training.folds.make_fold_job` of each fold, with the recipe's crops and shared checkpoint.

    ``combination`` is ``(target, task, protocol)``. Each fold's test table
    (module docstring) is appended to ``tested`` as its job is made; a
    generator, so one fold's rows are alive at a time when folds run serially.
    """
    target, task, protocol = combination
    train = config.train
    crops = train.sampling == "crops"
    if crops and task == "regression":
        raise ConfigError("train.sampling: crops trains classifiers only; the regression task needs sampling: grid")
    records = trial_records(data) if crops else None
    trackers: dict[str, BestTracker] = {}
    for index, fold in enumerate(folds):
        job = make_fold_job(data, y, n_classes, spec, target, task, protocol, fold, config, seed)
        table = data.meta.iloc[fold.test][["subject", "trial", "offset"]].reset_index(drop=True)
        table = table.assign(fold=fold.name, row=fold.test, label=y[fold.test])
        if records is not None:
            job, crop_table = _with_crops(job, records, fold, y, protocol, config, (seed, index))
            table = table if crop_table is None else crop_table
        if train.shared_best:
            job.best = trackers.setdefault("all" if protocol == "loso" else fold.name.split("/")[0], BestTracker())
        tested.append(table)
        yield job


def _with_crops(
    job: FoldJob, records: TrialRecords, fold: Fold, y: np.ndarray, protocol: str, config: RunConfig, key: tuple[int, int]
) -> tuple[FoldJob, pd.DataFrame | None]:
    """The job training on crops (its grid rows dropped), validating and maybe testing on drawn crops; the test table."""
    counts = config.train.crops
    held = None
    if protocol == "histn_blocks":
        block = int(fold.name.rsplit("/", 1)[1])
        held = histn_crop_spans(block, records.x.shape[2], records.crop_samples)
    train_ids, train_labels, train_spans = _part(records, fold.train, job.y_train, None if held is None else held["train"])
    sampler = CropSampler(records.x[train_ids], train_labels, train_spans, records.crop_samples, seed=key[0])
    x_val, y_val, _ = _draw(records, fold.val, y, None if held is None else held["val"], counts.val, (*key, 1))
    # The grid labels stay for the chance guess; the crops replace the training windows.
    update = {"crops": sampler, "x_train": job.x_train[:0], "x_val": x_val, "y_val": y_val}
    table = None
    if counts.test is not None:
        x_test, y_test, (ids, drawn) = _draw(records, fold.test, y, None if held is None else held["test"], counts.test, (*key, 2))
        update["x_test"] = x_test
        table = pd.DataFrame(
            {
                "subject": records.subject[ids[drawn.record]],
                "trial": records.trial[ids[drawn.record]],
                "offset": drawn.start / records.sfreq,
                "fold": fold.name,
                "row": -1,
                "label": y_test,
            }
        )
    return dataclasses.replace(job, **update), table


def _draw(
    records: TrialRecords, rows: np.ndarray, y: np.ndarray, spans: np.ndarray | None, n: int, key: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``n`` balanced crops of the samples of ``rows`` (or of ``spans`` in their records): inputs, labels, how drawn."""
    ids, labels, table = _part(records, rows, y[rows], spans)
    state = int(np.random.SeedSequence(list(key)).generate_state(1)[0])
    drawn = CropSampler(records.x[ids], labels, table, records.crop_samples, seed=state).draw(n, balanced=True)
    return drawn.x, drawn.y, (ids, drawn)


def _part(
    records: TrialRecords, rows: np.ndarray, labels: np.ndarray, spans: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records of ``rows``, their labels (from ``labels``, one per row) and ``(n, 3)`` spans in those records.

    ``spans`` ``(n, 2)`` applies to every record; ``None``: the samples the rows' windows cover.
    """
    if not len(rows):
        raise DataError("a fold has no windows to crop from")
    of_row = records.of_row[rows]
    ids, first = np.unique(of_row, return_index=True)
    record_labels = np.asarray(labels)[first].astype(np.int64)
    if spans is not None:
        n = len(spans)
        return ids, record_labels, np.column_stack([np.repeat(np.arange(len(ids)), n), np.tile(spans, (len(ids), 1))])
    local, start = np.searchsorted(ids, of_row), records.first[rows]
    merged: list[list[int]] = []
    for r, s in zip(*(a[np.lexsort((start, local))] for a in (local, start)), strict=True):
        if merged and merged[-1][0] == r and s <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], int(s) + records.crop_samples)
        else:
            merged.append([int(r), int(s), int(s) + records.crop_samples])
    return ids, record_labels, np.array(merged, dtype=np.int64)


def authors_fold_scores(table: pd.DataFrame, probabilities: np.ndarray, n_classes: int) -> dict[str, float]:
    """The authors' scores of every fold, averaged over each subject's folds then subjects, as ``authors_<name>``.

    ``table`` holds the tested rows (module docstring) aligned with
    ``probabilities`` ``(n_tested, n_classes)``; with two classes the ordinal
    scores (:data:`ORDINAL_ONLY`) are left out, as :func:`~graphs.training.ordinal_metrics.ordinal_scores` does.
    """
    folds, subjects = [], []
    for _name, group in table.groupby("fold", sort=False):
        rows = group.index.to_numpy()
        folds.append(authors_scores(group["label"].to_numpy().astype(np.int64), probabilities[rows]))
        subjects.append(str(group["subject"].iloc[0]))
    averaged = authors_average(folds, subjects)
    return {f"authors_{k}": v for k, v in averaged.items() if n_classes > 2 or k not in ORDINAL_ONLY}


def recipe_notes(config: RunConfig, metrics: dict) -> list[str]:
    """Notes for the report: the recipe options in use and each entry's authors' scores, labelled as theirs."""
    notes = []
    train = config.train
    if train.sampling == "crops":
        test = f"{train.crops.test} balanced test crops" if train.crops.test is not None else "the grid test windows"
        notes.append(
            f"deep models trained on HiSTN's random class-balanced crops (train.sampling: crops), validated on "
            f"{train.crops.val} balanced validation crops and tested on {test}"
        )
    if train.shared_best:
        notes.append(
            "train.shared_best: one best-validation-loss checkpoint shared by each subject's folds (the HiSTN "
            "authors' reused ModelCheckpoint); folds with restored_earlier_fit test an earlier fold's weights"
        )
    if not config.evaluation.authors_metrics:
        return notes
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol, entry in by_protocol.items():
                    shown = ", ".join(f"{k[len('authors_'):]} {v:.3f}" for k, v in entry.items() if k.startswith("authors_"))
                    if shown:
                        notes.append(f"{model} {target} {task} {protocol}, as the authors compute it: {shown}")
    return notes
