"""The HiSTN code's scores (authors_* in graphs.training.ordinal_metrics) beside the correct definitions."""

from __future__ import annotations

import numpy as np
import pytest

from biosig.errors import DataError
from graphs.training.ordinal_metrics import (
    authors_average,
    authors_scores,
    authors_top_k,
    authors_tri_p,
    top_k_accuracy,
    tri_p,
)

# Five classes; class 2 never true. Row 0's most probable class (2) is absent from the truth.
PROBA = np.array(
    [
        [0.10, 0.20, 0.40, 0.25, 0.05],
        [0.60, 0.20, 0.10, 0.05, 0.05],
        [0.05, 0.10, 0.15, 0.30, 0.40],
        [0.05, 0.50, 0.30, 0.10, 0.05],
    ]
)
Y = np.array([3, 0, 4, 1])


def test_top1_differs_when_the_predicted_class_is_absent_from_the_test_set() -> None:
    # Correct: row 0's arg-max is 2, a miss; rows 1-3 hit -> 3/4.
    assert top_k_accuracy(Y, PROBA, 1) == 0.75
    # Authors: column 2 is dropped (no test label 2), row 0's best remaining class is 3 -> a hit -> 4/4.
    assert authors_top_k(Y, PROBA, 1) == 1.0
    # Top-2: correct ranks (2, 3) for row 0 -> hit; all rows hit either way here.
    assert top_k_accuracy(Y, PROBA, 2) == authors_top_k(Y, PROBA, 2) == 1.0


def test_top_k_agrees_when_every_class_is_present() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=300)
    y = np.arange(300) % 5
    for k in (1, 2):
        assert authors_top_k(y, p, k) == pytest.approx(top_k_accuracy(y, p, k))


def test_top_k_with_two_present_classes_ranks_the_present_columns() -> None:
    y = np.array([0, 1, 1, 0])
    assert authors_top_k(y, PROBA, 1) == top_k_accuracy(y, PROBA, 1, present_only=True)
    assert authors_top_k(y, PROBA, 2) == 1.0


def test_tri_p_differs_when_a_middle_class_is_absent() -> None:
    # Classes 0, 1, 3 present (2 neither true nor predicted): matrix indices 0, 1, 2 stand for classes 0, 1, 3.
    y = np.array([1, 3, 3, 0])
    pred = np.array([3, 1, 3, 0])
    # Correct: 1 -> 3 and 3 -> 1 are two classes apart, outside the band -> 2/4 near.
    assert tri_p(y, pred) == 0.5
    # Authors: they are matrix indices 1 and 2, adjacent, inside the band -> 4/4.
    assert authors_tri_p(y, pred) == 1.0


def test_tri_p_agrees_when_no_class_between_is_missing() -> None:
    y = np.array([0, 1, 2, 3, 4, 4, 0, 2])
    pred = np.array([2, 1, 4, 3, 1, 4, 3, 2])  # |diff| = 2, 0, 2, 0, 3, 0, 3, 0 -> 4 of 8 near
    assert tri_p(y, pred) == authors_tri_p(y, pred) == 0.5
    # Classes 3 and 4 absent: indices equal values, no shift either.
    assert authors_tri_p(np.array([0, 2, 1]), np.array([2, 0, 1])) == pytest.approx(tri_p(np.array([0, 2, 1]), np.array([2, 0, 1])))
    assert authors_tri_p(np.array([2, 2]), np.array([2, 2])) == 1.0


def test_authors_scores_holds_each_score() -> None:
    scores = authors_scores(Y, PROBA)
    assert set(scores) == {"top1_accuracy", "top2_accuracy", "f1_weighted", "seq2hr", "tri_p"}
    assert scores["top1_accuracy"] == 1.0
    assert scores["tri_p"] == authors_tri_p(Y, PROBA.argmax(axis=1))


def test_average_over_folds_then_subjects() -> None:
    folds = [{"a": 1.0}, {"a": 0.0}, {"a": 0.0}, {"a": 1.0}]
    subjects = ["s1", "s1", "s1", "s2"]
    # s1: mean of 3 folds = 1/3; s2: 1.0; mean over subjects = 2/3 (the mean over folds would be 1/2).
    assert authors_average(folds, subjects) == {"a": pytest.approx(2 / 3)}
    with pytest.raises(DataError):
        authors_average(folds, subjects[:3])
