import numpy as np
import pytest
from scipy.stats import norm

from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import class_labels, corrected_labels
from graphs.training.label_smoothing import one_hot, smoothed_targets, soft_targets


def test_smoothing_matches_the_published_values():
    q = smoothed_targets(np.array([2, 0]), 5, sigma=0.5)
    np.testing.assert_array_equal(np.round(q[0], 4), [0.0003, 0.1065, 0.7866, 0.1065, 0.0003])
    np.testing.assert_array_equal(np.round(q[1], 4), [0.8805, 0.1192, 0.0003, 0.0, 0.0])


def test_smoothing_is_a_normalised_discrete_gaussian():
    y = np.array([0, 1, 2, 3, 4])
    for sigma in (0.3, 0.5, 1.2):
        pdf = norm.pdf(np.arange(5)[None, :], loc=y[:, None], scale=sigma)
        np.testing.assert_allclose(smoothed_targets(y, 5, sigma), pdf / pdf.sum(axis=1, keepdims=True), rtol=1e-12)


def test_one_hot_ablation_and_mode_switch():
    y = np.array([4, 0, 1])
    np.testing.assert_array_equal(one_hot(y, 5), np.eye(5)[y])
    np.testing.assert_array_equal(soft_targets(y, 5, "onehot"), np.eye(5)[y])
    np.testing.assert_allclose(soft_targets(y, 5, "smoothing", 0.5), smoothed_targets(y, 5, 0.5))
    with pytest.raises(ConfigError, match="label_mode"):
        soft_targets(y, 5, "mixture")
    with pytest.raises(ConfigError, match="sigma"):
        smoothed_targets(y, 5, 0.0)
    with pytest.raises(DataError, match=r"0\.\.4"):
        one_hot(np.array([5]), 5)


def test_class_labels_per_task():
    ratings = np.array([1, 3, 4, 5, 2])
    np.testing.assert_array_equal(class_labels(ratings, "binary", 3.0), [0, 0, 1, 1, 0])
    np.testing.assert_array_equal(class_labels(ratings, "five_class"), [0, 2, 3, 4, 1])
    with pytest.raises(DataError, match="arousal: five_class needs integer ratings"):
        class_labels(np.array([2.5, 3.0]), "five_class", name="arousal")
    with pytest.raises(DataError, match="valence: 1 ratings are NaN"):
        class_labels(np.array([np.nan, 3.0]), "binary", name="valence")


def test_label_correction_counts_each_trial_once_and_breaks_ties_low():
    # Trial 1: A (10 windows) says 0, B and C (1 window each) say 2 -> the clip's mode is 2, not 0.
    # Trial 2: A says 1, B says 3, C says 3 -> 3. Trial 3: A 4, B 1 (tie) -> 1.
    rows = [("A", 1, 0)] * 10 + [("B", 1, 2), ("C", 1, 2), ("A", 2, 1), ("B", 2, 3), ("C", 2, 3), ("C", 2, 3)]
    rows += [("A", 3, 4), ("B", 3, 1)]
    subjects, trials, labels = (np.array(col) for col in zip(*rows, strict=True))
    fixed = corrected_labels(subjects, trials, labels, 5)
    expected = {1: 2, 2: 3, 3: 1}
    np.testing.assert_array_equal(fixed, [expected[t] for t in trials])


def test_label_correction_rejects_a_trial_with_two_labels():
    with pytest.raises(DataError, match="subject B trial 1"):
        corrected_labels(np.array(["A", "B", "B"]), np.array([1, 1, 1]), np.array([0, 1, 2]), 5)
