"""The stimulus-identity baseline predicts from the other subjects' ratings of the same clip, never the test subject's."""

from __future__ import annotations

import numpy as np
import pytest

from biosig.evaluation.stimulus_baseline import stimulus_identity_predictions

# Four subjects, the same three clips, two windows per clip.
SUBJECTS = np.repeat(["a", "b", "c", "d"], 6)
STIMULI = np.tile(np.repeat([1, 2, 3], 2), 4)
RATINGS = np.repeat(
    [
        [5, 1, 3],  # a
        [4, 2, 3],  # b
        [4, 1, 2],  # c
        [5, 2, 2],  # d
    ],
    2,
).ravel().astype(float)


def test_mode_of_the_other_subjects_for_each_clip() -> None:
    test = SUBJECTS == "a"
    result = stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, test)
    assert result.applicable and result.reason is None and result.n_missing == 0
    # Clip 1: others 4, 4, 5 -> 4; clip 2: 2, 1, 2 -> 2; clip 3: 3, 2, 2 -> 2.
    assert result.predictions[test].tolist() == [4, 4, 2, 2, 2, 2]
    assert np.isnan(result.predictions[~test]).all()


def test_mean_for_regression_and_ties_to_the_smallest() -> None:
    test = SUBJECTS == "d"
    mean = stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, test, kind="mean")
    assert mean.predictions[test] == pytest.approx(np.repeat([13 / 3, 4 / 3, 8 / 3], 2))
    # Only subjects a and b as reference: clip 1 has 5 and 4 -> tie -> 4.
    two = stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, test, reference_mask=np.isin(SUBJECTS, ["a", "b"]))
    assert two.predictions[test][:2].tolist() == [4, 4]


def test_the_test_subjects_own_ratings_never_change_its_predictions() -> None:
    test = SUBJECTS == "b"
    before = stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, test).predictions
    changed = RATINGS.copy()
    changed[test] = [1, 1, 5, 5, 5, 5]
    for kind in ("mode", "mean"):
        reference = stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, test, kind=kind).predictions
        after = stimulus_identity_predictions(changed, SUBJECTS, STIMULI, test, kind=kind).predictions
        assert np.array_equal(reference[test], after[test])
    # Even a reference mask that includes the test subject's rows does not let them in.
    everything = stimulus_identity_predictions(changed, SUBJECTS, STIMULI, test, reference_mask=np.ones(24, bool))
    assert np.array_equal(everything.predictions[test], before[test])


def test_a_subject_counts_once_however_many_windows_it_has() -> None:
    subjects = np.array(["a", "b", "b", "b", "c"])
    stimuli = np.ones(5, int)
    ratings = np.array([3.0, 1.0, 1.0, 1.0, 5.0])
    result = stimulus_identity_predictions(ratings, subjects, stimuli, subjects == "a", kind="mean")
    assert result.predictions[0] == pytest.approx(3.0)


def test_not_applicable_without_shared_stimuli() -> None:
    test = SUBJECTS == "a"
    none = stimulus_identity_predictions(RATINGS, SUBJECTS, None, test)
    assert not none.applicable and none.predictions is None and "no stimulus id" in none.reason
    own_clips = np.char.add(SUBJECTS, STIMULI.astype(str))
    unshared = stimulus_identity_predictions(RATINGS, SUBJECTS, own_clips, test)
    assert not unshared.applicable and "shared" in unshared.reason


def test_a_clip_nobody_else_rated_is_missing() -> None:
    stimuli = STIMULI.copy()
    stimuli[:2] = 9  # subject a's first clip is its own
    partial = stimulus_identity_predictions(RATINGS, SUBJECTS, stimuli, SUBJECTS == "a")
    assert partial.applicable and partial.n_missing == 2
    assert np.isnan(partial.predictions[:2]).all()
    alone = stimulus_identity_predictions(RATINGS, SUBJECTS, stimuli, np.arange(24) < 2)
    assert not alone.applicable and alone.n_missing == 2 and "another subject" in alone.reason


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="one entry per row"):
        stimulus_identity_predictions(RATINGS[:-1], SUBJECTS, STIMULI, SUBJECTS == "a")
    with pytest.raises(ValueError, match="kind"):
        stimulus_identity_predictions(RATINGS, SUBJECTS, STIMULI, SUBJECTS == "a", kind="median")  # type: ignore[arg-type]
