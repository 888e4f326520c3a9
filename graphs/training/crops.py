"""Random crops of trial records, HiSTN's way of feeding its training, validation and test sets.

HiSTN's subject-dependent script (``Dreamer_10cv.py`` with ``utils.sample_generator``
and ``utils.val_gen``; field notes section 1) does not cut a fixed window grid:

* every training batch is 256 random 1-s crops (128 samples) that may start at
  **any sample** of the training blocks of a fold;
* the draw is class-balanced: a label uniformly among the labels present, then
  a trial with that label uniformly, then a start uniformly among the allowed
  start samples;
* an epoch is ``(allowed start positions x 18 trials) // 256`` steps
  (:meth:`CropSampler.steps_per_epoch`);
* validation is one draw of 2,000 balanced crops of the validation block, the
  test set one draw of 1,000 balanced crops of the test block.

:class:`CropSampler` draws such crops from records ``(n_records, n_channels,
n_samples)`` (e.g. :func:`graphs.training.windows_dataset.session_records`
after the max-normalisation, one record per trial) within allowed **spans**:
a crop ``[s, s + crop_samples)`` is drawn only if it lies entirely inside
one span ``[start, stop)`` of its record, so it never crosses a block edge.
:func:`histn_crop_spans` gives the spans of fold ``i`` of
:func:`graphs.training.splits.histn_blocks` in samples.

Differences from the authors' generators, none of which changes the
distribution of a crop: the authors draw the starts of a batch from a
shared list without replacement (``random.sample``) when the training region
has two parts; here every crop's start is drawn independently (with 5,000+
starts per trial, a repeat within a batch of 256 is rare either way). Their
exclusive upper bounds (``randint(lo, hi - 128)``) also drop the crop ending
exactly at a block's or the record's end; it is kept here, as
:func:`~graphs.training.splits.histn_blocks` keeps that window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from biosig.errors import ConfigError, DataError


class Crops(NamedTuple):
    """One draw of crops.

    Attributes
    ----------
    x
        ``(n, n_channels, crop_samples)`` float32 crops.
    y
        ``(n,)`` int64 label of each crop's record.
    record
        ``(n,)`` int64 index of each crop's record.
    start
        ``(n,)`` int64 first sample of each crop in its record.
    """

    x: np.ndarray
    y: np.ndarray
    record: np.ndarray
    start: np.ndarray


class CropSampler:
    """Seeded, vectorised random crops of records inside allowed spans (see the module docstring).

    Parameters
    ----------
    records
        ``(n_records, n_channels, n_samples)`` array, or a sequence of
        ``(n_channels, n_samples_r)`` arrays (records of different lengths).
    record_labels
        ``(n_records,)`` integer label (class index) of each record.
    spans
        Allowed sample spans ``[start, stop)``: ``(n_spans, 2)`` applying to
        every record, or ``(n_spans, 3)`` rows ``(record, start, stop)``.
        Spans shorter than ``crop_samples`` allow no crop; spans may not
        overlap within a record.
    crop_samples
        Crop length in samples (HiSTN: 128, 1 s at 128 Hz).
    seed
        Seed of the sampler's :func:`numpy.random.default_rng`; every
        :meth:`draw` advances it.

    Raises
    ------
    DataError
        Records and labels of different counts, a span outside its record
        or overlapping another, or no span that holds a crop.
    ConfigError
        ``crop_samples < 1``.
    """

    def __init__(
        self,
        records: np.ndarray | Sequence[np.ndarray],
        record_labels: np.ndarray,
        spans: np.ndarray | Sequence[Sequence[int]],
        crop_samples: int,
        seed: int = 0,
    ) -> None:
        if crop_samples < 1:
            raise ConfigError(f"crop_samples must be >= 1, got {crop_samples}")
        self._records, lengths = _as_records(records)
        labels = np.asarray(record_labels)
        if labels.shape != (len(lengths),) or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"record_labels must be {len(lengths)} integers, one per record; got {labels.dtype} {labels.shape}")
        self.labels = labels.astype(np.int64)
        self.crop_samples = int(crop_samples)
        table = _span_table(spans, lengths)
        counts = table[:, 2] - table[:, 1] - self.crop_samples + 1
        table, counts = table[counts > 0], counts[counts > 0]
        if not len(table):
            raise DataError(f"no allowed span holds a crop of {crop_samples} samples")
        # Spans sorted by record; each record's starts are numbered 0..n_starts-1 across its spans.
        self._span_record, self._span_start = table[:, 0], table[:, 1]
        self._span_first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.n_starts = np.bincount(table[:, 0], weights=counts, minlength=len(lengths)).astype(np.int64)
        self._record_first = np.concatenate([[0], np.cumsum(self.n_starts)[:-1]])
        usable = np.flatnonzero(self.n_starts > 0)
        self.classes = np.unique(self.labels[usable])
        self._by_class = [usable[self.labels[usable] == c] for c in self.classes]
        self._rng = np.random.default_rng(seed)

    def steps_per_epoch(self, batch_size: int) -> int:
        """The authors' epoch: all allowed (record, start) pairs ``// batch_size``, at least 1."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        return max(1, int(self.n_starts.sum()) // batch_size)

    def draw(self, n: int, balanced: bool = True) -> Crops:
        """``n`` crops; ``balanced``: a label, then a record with it, then a start (else uniform over all pairs).

        With ``balanced=False`` every allowed (record, start) pair is equally likely.
        """
        if n < 0:
            raise ConfigError(f"the number of crops must be >= 0, got {n}")
        if balanced:
            pick = self._rng.integers(0, len(self.classes), n)
            sizes = np.array([len(members) for members in self._by_class])
            within = np.floor(self._rng.random(n) * sizes[pick]).astype(np.int64)
            members = np.concatenate(self._by_class)
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            record = members[offsets[pick] + within]
            flat = self._record_first[record] + np.floor(self._rng.random(n) * self.n_starts[record]).astype(np.int64)
        else:
            flat = self._rng.integers(0, int(self.n_starts.sum()), n)
        span = np.searchsorted(self._span_first, flat, side="right") - 1
        record = self._span_record[span]
        start = self._span_start[span] + (flat - self._span_first[span])
        return Crops(self._gather(record, start), self.labels[record], record, start)

    def _gather(self, record: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Crops ``(n, n_channels, crop_samples)`` float32 at ``start`` of ``record``."""
        idx = start[:, None] + np.arange(self.crop_samples)[None, :]
        if isinstance(self._records, np.ndarray):
            # Advanced indices on axes 0 and 2 go first: (n, crop_samples, n_channels).
            out = np.moveaxis(self._records[record[:, None], :, idx], 2, 1)
        else:
            flat, first = self._records
            out = np.moveaxis(flat[:, first[record][:, None] + idx], 0, 1)
        return np.ascontiguousarray(out, dtype=np.float32)


def histn_crop_spans(
    fold: int, n_samples: int, crop_samples: int, n_blocks: int = 10, gap_samples: int | None = None
) -> dict[str, np.ndarray]:
    """Training, validation and test spans ``(n_spans, 2)`` in samples of HiSTN's fold ``fold``.

    Fold ``i`` tests block ``i`` and validates on block ``i - 1`` (block
    ``n_blocks - 1`` for fold 0) of each record of ``n_samples`` samples cut
    into ``n_blocks`` equal blocks, as :func:`graphs.training.splits.histn_blocks`.
    A training crop starting at ``s`` needs ``s + gap_samples < b_start`` or
    ``s >= b_end`` for each held-out block (default gap: one crop, the
    authors' 128 samples), so a crop before a held-out block ends at least one
    sample before it: the authors' ``np.arange(0, val_start - 128)``.

    Returns
    -------
    dict
        ``train``, ``val``, ``test``: ``(n_spans, 2)`` int64 ``[start, stop)``
        spans, to pass to :class:`CropSampler` (they apply to every record).

    Raises
    ------
    ConfigError
        Fewer than 3 blocks, a fold outside ``0..n_blocks-1``, a gap shorter
        than a crop or blocks shorter than a crop.
    """
    gap = crop_samples if gap_samples is None else gap_samples
    block = n_samples // n_blocks
    if n_blocks < 3 or not 0 <= fold < n_blocks:
        raise ConfigError(f"histn_crop_spans needs n_blocks >= 3 and 0 <= fold < n_blocks; got fold {fold} of {n_blocks}")
    if gap < crop_samples or block < crop_samples:
        raise ConfigError(f"gap ({gap}) and blocks ({block} samples) must each hold a crop of {crop_samples} samples")
    held = sorted({fold, (fold - 1) % n_blocks})
    allowed = np.ones(n_samples - crop_samples + 1, dtype=bool)
    starts = np.arange(len(allowed))
    for b in held:
        allowed &= (starts + gap < b * block) | (starts >= (b + 1) * block)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], allowed.astype(np.int8), [0]])))
    train = np.stack([edges[0::2], edges[1::2] - 1 + crop_samples], axis=1)

    def block_span(b: int) -> np.ndarray:
        return np.array([[b * block, (b + 1) * block]], dtype=np.int64)

    return {"train": train.astype(np.int64), "val": block_span((fold - 1) % n_blocks), "test": block_span(fold)}


def _as_records(records: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray | tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Records as a 3-D array or ``(channels x all samples, first sample of each record)``, and their lengths."""
    if isinstance(records, np.ndarray):
        if records.ndim != 3 or not records.shape[0]:
            raise DataError(f"records must be (n_records > 0, n_channels, n_samples), got shape {records.shape}")
        return records, np.full(records.shape[0], records.shape[2], dtype=np.int64)
    arrays = [np.asarray(r) for r in records]
    if not arrays or any(a.ndim != 2 or a.shape[0] != arrays[0].shape[0] for a in arrays):
        raise DataError("records must be a non-empty sequence of (n_channels, n_samples) arrays with equal channels")
    lengths = np.array([a.shape[1] for a in arrays], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return (np.concatenate(arrays, axis=1), first), lengths


def _span_table(spans: np.ndarray | Sequence[Sequence[int]], lengths: np.ndarray) -> np.ndarray:
    """``(n, 3)`` int64 non-empty rows ``(record, start, stop)`` sorted by record and start; checked against the records."""
    table = np.asarray(spans, dtype=np.int64)
    if table.ndim != 2 or table.shape[1] not in (2, 3):
        raise DataError(f"spans must be (n_spans, 2) or (n_spans, 3), got shape {table.shape}")
    if table.shape[1] == 2:
        n = len(lengths)
        table = np.column_stack([np.repeat(np.arange(n), len(table)), np.tile(table, (n, 1))])
    rec, lo, hi = table.T
    if ((rec < 0) | (rec >= len(lengths))).any():
        raise DataError(f"spans name records outside 0..{len(lengths) - 1}")
    if ((lo < 0) | (hi > lengths[rec]) | (hi < lo)).any():
        raise DataError("every span [start, stop) must satisfy 0 <= start <= stop <= its record's length")
    table = table[hi > lo]
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    same = table[1:, 0] == table[:-1, 0]
    if (same & (table[1:, 1] < table[:-1, 2])).any():
        raise DataError("spans of one record overlap")
    return table
