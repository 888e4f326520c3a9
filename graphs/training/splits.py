"""The deep-model protocols: folds with validation and fine-tuning rows.

Each yields :class:`Fold` objects over the rows (windows) of a cohort:

* :func:`histn_blocks`: HiSTN's subject-dependent protocol (``Dreamer_10cv.py``
  with ``utils.data_split_10``): each trial's record (its last 60 s) is cut
  into ten 6-s blocks; fold i tests block i, validates on block i-1 (block 9
  for fold 0) and trains on windows starting elsewhere, at least ``gap``
  (1 s, 128 samples) before a held-out block, so no training window shares a
  sample with a held-out one. Every trial is on both sides, at different times:
  the published figures come from this split.
* :func:`leave_trials_out`: :func:`~biosig.evaluation.protocols.subject_dependent_kfold`
  (whole trials held out) plus validation trials drawn from the training trials.
* :func:`loso_folds`: leave-one-subject-out with validation trials of the
  training subjects and, optionally, HiSTN's fine-tuning rows: the test
  subject's windows inside the first ``finetune_seconds`` of each record,
  tested on the windows after them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from biosig.errors import ConfigError, DataError
from biosig.evaluation.protocols import leave_one_subject_out, ordered_unique, subject_dependent_kfold

# Offsets are seconds computed from float onsets; block edges are compared with this slack.
_EPS = 1e-6


@dataclass(frozen=True)
class Fold:
    """Row indices of one fold of a deep-model protocol.

    Attributes
    ----------
    name
        ``"<subject>/<k>"`` (subject-dependent) or ``"<subject>"`` (LOSO).
    train, val, test
        Training rows, validation rows (early stopping and checkpoint
        choice) and test rows.
    finetune
        Rows of the test subject used to fine-tune before testing (LOSO with
        ``finetune_seconds``); empty otherwise.
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    finetune: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def histn_blocks(
    subjects: np.ndarray,
    trials: np.ndarray,
    offsets: np.ndarray,
    window_length: float = 1.0,
    record_seconds: float = 60.0,
    n_blocks: int = 10,
    gap: float = 1.0,
) -> Iterator[Fold]:
    """HiSTN's subject-dependent within-trial block split (see the module docstring).

    Parameters
    ----------
    subjects, trials
        ``(n_windows,)`` subject id and trial number per window.
    offsets
        ``(n_windows,)`` window start in seconds from the start of its trial's
        record (0 for a window at the start of the last 60 s).
    window_length
        Window length in seconds (HiSTN: 1 s).
    record_seconds
        Length of each trial's record in seconds, cut into ``n_blocks`` equal blocks.
    n_blocks
        Blocks, hence folds, per subject (HiSTN: 10 of 6 s).
    gap
        Start positions dropped before each held-out block, seconds: a
        training window starting at ``o`` needs ``o < start - gap`` or
        ``o >= end`` of every held-out block (HiSTN: the 128 start samples
        before the block, ``np.arange(0, val_start - 128)``). At least
        ``window_length``, so training windows never reach into a held-out block.

    Yields
    ------
    Fold
        ``"<subject>/<i>"``: test = windows inside block i, val = windows
        inside block i-1 (wrapping), train = the windows allowed by ``gap``.
        Windows straddling a block edge are tested in no fold.

    Notes
    -----
    The authors draw random crops with exclusive upper bounds
    (``randint(lo, hi - 128)``, ``np.arange(test_end, 7680 - 128)``), which
    also drops the crop ending exactly at a block's or the record's end. Those
    windows are kept here: they share no sample with another block, and with
    1-s hops dropping them would leave one window in six untested.

    Raises
    ------
    ConfigError
        ``n_blocks < 3`` or ``gap`` shorter than a window.
    DataError
        A window lies outside ``[0, record_seconds]``.
    """
    if n_blocks < 3:
        raise ConfigError(f"histn_blocks needs at least 3 blocks (test, validation, training), got {n_blocks}")
    if gap < window_length - _EPS:
        raise ConfigError(f"histn_blocks gap ({gap} s) must be at least the window length ({window_length} s)")
    subjects, offsets = np.asarray(subjects), np.asarray(offsets, dtype=float)
    ends = offsets + window_length
    if (offsets < -_EPS).any() or (ends > record_seconds + _EPS).any():
        raise DataError(
            f"histn_blocks: windows must lie inside the {record_seconds} s record; offsets span "
            f"{offsets.min():.3f}..{ends.max():.3f} s"
        )
    block = record_seconds / n_blocks

    def inside(b: int) -> np.ndarray:
        return (offsets >= b * block - _EPS) & (ends <= (b + 1) * block + _EPS)

    def clear_of(b: int) -> np.ndarray:
        return (offsets + gap < b * block - _EPS) | (offsets >= (b + 1) * block - _EPS)

    for subject in ordered_unique(subjects):
        mine = subjects == subject
        for i in range(n_blocks):
            j = (i - 1) % n_blocks
            test, val = mine & inside(i), mine & inside(j)
            train = mine & clear_of(i) & clear_of(j)
            yield Fold(f"{subject}/{i}", np.flatnonzero(train), np.flatnonzero(val), np.flatnonzero(test))


def leave_trials_out(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> Iterator[Fold]:
    """Subject-dependent k-fold over whole trials with whole validation trials.

    The test folds are those of :func:`subject_dependent_kfold` (same
    arguments, same seed). The validation trials are one fold of a
    label-stratified ``n_folds``-fold split of the training trials (about
    ``1 / n_folds`` of them), drawn with ``seed``. A trial is on one
    side only: train, val and test share no trial.

    Yields
    ------
    Fold
        ``"<subject>/<k>"``.
    """
    labels = np.asarray(labels)
    trials = np.asarray(trials)
    yield from with_validation_trials(subject_dependent_kfold(subjects, trials, labels, n_folds, seed), trials, labels, n_folds, seed)


def with_validation_trials(
    splits: Iterable[tuple[str, np.ndarray, np.ndarray]], trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> Iterator[Fold]:
    """:class:`Fold` objects from ``(name, train, test)`` splits, validation trials drawn from each training side.

    The validation trials are one fold of a label-stratified ``n_folds``-fold
    split of the training trials (whole trials, about ``1 / n_folds`` of them),
    drawn with ``seed``.
    """
    for name, train, test in splits:
        inner = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        if len(np.unique(trials[train])) < inner.n_splits:
            raise DataError(f"{name}: too few training trials to hold out validation trials")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit, val = next(inner.split(train, labels[train], groups=trials[train]))
        yield Fold(name, train[fit], train[val], test)


def loso_folds(
    subjects: np.ndarray,
    trials: np.ndarray,
    offsets: np.ndarray | None = None,
    window_length: float = 1.0,
    val_fraction: float = 0.1,
    finetune_seconds: float | None = None,
    seed: int = 0,
) -> Iterator[Fold]:
    """Leave-one-subject-out with validation trials and optional fine-tuning rows.

    Parameters
    ----------
    subjects, trials
        ``(n_windows,)`` subject id and trial number per window.
    offsets
        ``(n_windows,)`` window start in seconds from the start of its trial's
        record; needed with ``finetune_seconds``.
    window_length
        Window length in seconds.
    val_fraction
        Share of the training subjects' (subject, trial) pairs held out, whole,
        for validation (at least one), drawn with ``seed``.
    finetune_seconds
        With a value (HiSTN: 10 s), the test subject's windows lying inside the
        first ``finetune_seconds`` of each record fine-tune the model and only
        the windows starting at or after it are tested; windows straddling
        that time are used by neither.
    seed
        Seed of the validation draw.

    Yields
    ------
    Fold
        Named by the test subject. The test subject is never in train or val.
    """
    subjects, trials = np.asarray(subjects), np.asarray(trials)
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if finetune_seconds is not None:
        if offsets is None:
            raise ConfigError("loso_folds: finetune_seconds needs the window offsets")
        offsets = np.asarray(offsets, dtype=float)
        if finetune_seconds < window_length - _EPS:
            raise ConfigError(f"finetune_seconds ({finetune_seconds} s) is shorter than one {window_length} s window")
    for k, (name, train, test) in enumerate(leave_one_subject_out(subjects)):
        pairs = _pair_codes(subjects[train], trials[train])
        n_pairs = int(pairs.max()) + 1
        held = np.random.default_rng([seed, k]).permutation(n_pairs)[: max(1, round(val_fraction * n_pairs))]
        is_val = np.isin(pairs, held)
        finetune = np.empty(0, dtype=np.int64)
        if finetune_seconds is not None:
            early = offsets[test] + window_length <= finetune_seconds + _EPS
            late = offsets[test] >= finetune_seconds - _EPS
            finetune, test = test[early], test[late]
        yield Fold(name, train[~is_val], train[is_val], test, finetune)


def _pair_codes(subjects: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Index ``(n,)`` of each row's (subject, trial) pair among the distinct pairs."""
    subject_code = np.unique(subjects, return_inverse=True)[1].ravel()
    pairs = np.stack([subject_code, np.asarray(trials, dtype=np.int64)])
    return np.unique(pairs, axis=1, return_inverse=True)[1].ravel()
