import numpy as np
import pytest

from biosig.errors import DataError
from biosig.evaluation.protocols import leave_one_subject_out, subject_dependent_kfold


def _cohort(n_subjects=4, n_trials=18, windows=7, seed=0):
    rng = np.random.default_rng(seed)
    subjects = np.repeat([f"S{i:02d}" for i in range(n_subjects)], n_trials * windows)
    trials = np.tile(np.repeat(np.arange(1, n_trials + 1), windows), n_subjects)
    trial_labels = rng.integers(0, 2, size=(n_subjects, n_trials))
    labels = trial_labels[np.repeat(np.arange(n_subjects), n_trials * windows), trials - 1]
    return subjects, trials, labels


def test_subject_dependent_kfold_keeps_trials_whole_and_subjects_apart():
    subjects, trials, labels = _cohort()
    seen_test = np.zeros(len(subjects), int)
    folds = list(subject_dependent_kfold(subjects, trials, labels, n_folds=5, seed=3))
    assert len(folds) == 4 * 5
    for name, train, test in folds:
        subject = name.split("/")[0]
        assert set(subjects[train]) == {subject} and set(subjects[test]) == {subject}
        assert not set(trials[train]) & set(trials[test]), "a trial is split across train and test"
        seen_test[test] += 1
    assert (seen_test == 1).all(), "every window is tested exactly once"


def test_subject_dependent_kfold_is_seeded():
    subjects, trials, labels = _cohort()
    a = [t.tolist() for _, _, t in subject_dependent_kfold(subjects, trials, labels, 5, seed=1)]
    b = [t.tolist() for _, _, t in subject_dependent_kfold(subjects, trials, labels, 5, seed=1)]
    c = [t.tolist() for _, _, t in subject_dependent_kfold(subjects, trials, labels, 5, seed=2)]
    assert a == b and a != c


def test_too_few_trials_is_a_clear_error():
    subjects, trials, labels = _cohort(n_trials=3)
    with pytest.raises(DataError, match="subject S00 has 3 trials, fewer than evaluation.n_folds = 5"):
        list(subject_dependent_kfold(subjects, trials, labels, 5, 0))


def test_loso_never_trains_on_the_test_subject():
    subjects, _, _ = _cohort()
    folds = list(leave_one_subject_out(subjects))
    assert [f for f, _, _ in folds] == ["S00", "S01", "S02", "S03"]
    for name, train, test in folds:
        assert set(subjects[test]) == {name}
        assert name not in set(subjects[train])
        assert len(train) + len(test) == len(subjects)
    with pytest.raises(DataError):
        list(leave_one_subject_out(subjects[subjects == "S00"]))
