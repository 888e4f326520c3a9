import numpy as np
import pytest

from biosig.errors import ConfigError, DataError
from biosig.evaluation.protocols import subject_dependent_kfold
from graphs.training.splits import histn_blocks, leave_trials_out, loso_folds

SFREQ = 128
RECORD = 60 * SFREQ  # samples


def _windows(n_subjects=2, n_trials=3, hop=1.0, record=60.0, length=1.0):
    offsets = np.arange(0.0, record - length + 1e-9, hop)
    n = len(offsets)
    subjects = np.repeat([f"S{i}" for i in range(n_subjects)], n_trials * n)
    trials = np.tile(np.repeat(np.arange(1, n_trials + 1), n), n_subjects)
    return subjects, trials, np.tile(offsets, n_subjects * n_trials)


def _samples(offset):
    """Sample indices covered by a 1-s window starting at ``offset`` seconds."""
    start = int(round(offset * SFREQ))
    return set(range(start, start + SFREQ))


def _authors_split(fold):
    """Start samples allowed by the authors' utils.data_split_10 (train, val, test), transcribed."""
    block = RECORD // 10
    lo_t, hi_t = block * fold, block * fold + block
    lo_v = block * ((fold - 1) % 10)
    hi_v = lo_v + block
    if fold == 0:
        train = set(range(hi_t, lo_v - SFREQ))  # randint(test_end, val_start - 128)
    elif fold == 9:
        train = set(range(0, lo_v - SFREQ))
    else:
        train = set(range(0, lo_v - SFREQ)) | set(range(hi_t, RECORD - SFREQ))
    # randint(lo, hi - 128): the authors never draw the crop ending exactly at the block's end.
    return train, set(range(lo_v, hi_v - SFREQ)), set(range(lo_t, hi_t - SFREQ))


def test_histn_blocks_reproduce_the_authors_start_positions():
    # One trial, windows at every sample: the split is the authors' up to the crops ending exactly at an edge.
    subjects, trials, offsets = _windows(1, 1, hop=1 / SFREQ)
    starts = np.round(offsets * SFREQ).astype(int)
    folds = list(histn_blocks(subjects, trials, offsets))
    assert [f.name for f in folds] == [f"S0/{i}" for i in range(10)]
    for i, fold in enumerate(folds):
        train, val, test = _authors_split(i)
        edge = {RECORD - SFREQ}  # the record's last crop, which the authors' exclusive bound drops
        assert set(starts[fold.train]) - edge == train - edge
        assert set(starts[fold.val]) == val | {max(val) + 1}
        assert set(starts[fold.test]) == test | {max(test) + 1}


def test_histn_blocks_never_share_a_sample_and_keep_the_gap():
    subjects, trials, offsets = _windows(hop=0.25)
    for fold in histn_blocks(subjects, trials, offsets):
        subject, i = fold.name.split("/")
        i = int(i)
        held = [((i - 1) % 10) * 6.0, i * 6.0]  # starts of the val and test blocks, seconds
        for part in (fold.train, fold.val, fold.test):
            assert set(subjects[part]) == {subject}
        assert not set(fold.train) & set(fold.val) and not set(fold.train) & set(fold.test)
        assert not set(fold.val) & set(fold.test)
        assert np.all((offsets[fold.test] >= i * 6.0) & (offsets[fold.test] + 1 <= i * 6.0 + 6))
        for trial in np.unique(trials[fold.train]):
            same = trials == trial
            train_samples = set().union(*(_samples(o) for o in offsets[np.intersect1d(fold.train, np.flatnonzero(same))]))
            held_rows = np.intersect1d(np.concatenate([fold.val, fold.test]), np.flatnonzero(same))
            held_samples = set().union(*(_samples(o) for o in offsets[held_rows]))
            assert not train_samples & held_samples, "a training window shares samples with a held-out window"
        for start in held:
            in_gap = (offsets[fold.train] >= start - 1.0) & (offsets[fold.train] < start)
            assert not in_gap.any(), "a training window starts inside the 1-s gap before a held-out block"


def test_histn_blocks_test_every_window_once_with_one_second_hops():
    subjects, trials, offsets = _windows(hop=1.0)
    counts = np.zeros(len(offsets), int)
    folds = list(histn_blocks(subjects, trials, offsets))
    assert len(folds) == 20
    for fold in folds:
        counts[fold.test] += 1
        i = int(fold.name.split("/")[1])
        # 6 test and 6 validation windows per trial; training loses the 12 held-out starts and the gap start.
        assert len(fold.test) == len(fold.val) == 6 * 3
        assert len(fold.train) == (48 if i == 1 else 47) * 3
    assert (counts == 1).all()


def test_histn_blocks_reject_bad_settings():
    subjects, trials, offsets = _windows()
    with pytest.raises(ConfigError, match="gap"):
        list(histn_blocks(subjects, trials, offsets, gap=0.5))
    with pytest.raises(DataError, match="inside the 30.0 s record"):
        list(histn_blocks(subjects, trials, offsets, record_seconds=30.0))


def test_leave_trials_out_holds_whole_trials_out_of_train_val_and_test():
    rng = np.random.default_rng(0)
    subjects, trials, offsets = _windows(n_subjects=3, n_trials=18, hop=5.0)
    trial_labels = rng.integers(0, 2, (3, 19))
    labels = trial_labels[np.char.lstrip(subjects.astype(str), "S").astype(int), trials]
    folds = list(leave_trials_out(subjects, trials, labels, 5, seed=4))
    reference = [t.tolist() for _, _, t in subject_dependent_kfold(subjects, trials, labels, 5, 4)]
    assert [f.test.tolist() for f in folds] == reference
    tested = np.zeros(len(subjects), int)
    for fold in folds:
        subject = fold.name.split("/")[0]
        parts = [fold.train, fold.val, fold.test]
        for part in parts:
            assert len(part) and set(subjects[part]) == {subject}
        sets = [set(trials[p]) for p in parts]
        assert not sets[0] & sets[1] and not sets[0] & sets[2] and not sets[1] & sets[2]
        assert len(fold.train) + len(fold.val) + len(fold.test) == (subjects == subject).sum()
        tested[fold.test] += 1
    assert (tested == 1).all()


def test_loso_folds_keep_the_test_subject_out_and_split_finetuning_in_time():
    subjects, trials, offsets = _windows(n_subjects=3, n_trials=6, hop=0.25)
    folds = list(loso_folds(subjects, trials, offsets, 1.0, val_fraction=0.2, finetune_seconds=10.0, seed=1))
    assert [f.name for f in folds] == ["S0", "S1", "S2"]
    for fold in folds:
        assert fold.name not in set(subjects[fold.train]) | set(subjects[fold.val])
        assert set(subjects[fold.test]) == set(subjects[fold.finetune]) == {fold.name}
        pairs = lambda rows: set(zip(subjects[rows], trials[rows], strict=True))  # noqa: E731
        assert not pairs(fold.train) & pairs(fold.val), "a validation trial is also trained on"
        assert len(pairs(fold.val)) == round(0.2 * 12)
        assert offsets[fold.finetune].max() + 1.0 <= 10.0 and offsets[fold.test].min() >= 10.0
        # 1-s windows with 0.25-s hops: 37 fine-tuning windows per trial (HiSTN's 37 x 18), 197 tested.
        assert len(fold.finetune) == 37 * 6 and len(fold.test) == 197 * 6
    plain = list(loso_folds(subjects, trials, val_fraction=0.2, seed=1))
    assert all(len(f.finetune) == 0 and len(f.test) == (subjects == f.name).sum() for f in plain)
    with pytest.raises(ConfigError, match="offsets"):
        list(loso_folds(subjects, trials, finetune_seconds=10.0))
