"""Confidence intervals over subjects, the chance flag, Holm and the paired Wilcoxon comparisons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from biosig.evaluation.chance import PermutationChance
from biosig.evaluation.statistics import (
    SubjectCI,
    compare_protocols,
    flag_not_above_chance,
    holm,
    paired_comparisons,
    score_with_chance,
    subject_ci,
)

SCORES = np.array([0.61, 0.55, 0.72, 0.48, 0.66, 0.59, 0.70, 0.52])


def test_t_interval_matches_a_hand_computation_and_scipy() -> None:
    ci = subject_ci(SCORES, method="t")
    n = len(SCORES)
    mean = SCORES.sum() / n
    sd = math.sqrt(((SCORES - mean) ** 2).sum() / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    assert ci.mean == pytest.approx(mean)
    assert (ci.low, ci.high) == pytest.approx((mean - half, mean + half))
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=stats.sem(SCORES))
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert (ci.n, ci.n_missing, ci.method, ci.confidence) == (8, 0, "t", 0.95)


def test_nan_subjects_are_left_out_and_counted() -> None:
    scores = {"s1": 0.6, "s2": float("nan"), "s3": 0.7, "s4": 0.5}
    ci = subject_ci(scores)
    assert (ci.n, ci.n_missing) == (3, 1)
    complete = subject_ci([0.6, 0.7, 0.5])
    assert (ci.mean, ci.low, ci.high) == (complete.mean, complete.low, complete.high)


def test_fewer_than_two_subjects_give_no_interval() -> None:
    ci = subject_ci([0.7, float("nan")])
    assert ci.mean == 0.7 and math.isnan(ci.low) and math.isnan(ci.high)
    assert math.isnan(subject_ci([float("nan")]).mean)


def test_bootstrap_interval_is_seeded_and_matches_scipy() -> None:
    ci = subject_ci(SCORES, method="bootstrap", seed=3)
    assert ci == subject_ci(SCORES, method="bootstrap", seed=3)
    assert ci.method == "bootstrap" and ci.mean == pytest.approx(SCORES.mean())
    assert ci.low < ci.mean < ci.high
    reference = stats.bootstrap((SCORES,), np.mean, method="percentile", n_resamples=10_000, random_state=0)
    assert ci.low == pytest.approx(reference.confidence_interval.low, abs=0.01)
    assert ci.high == pytest.approx(reference.confidence_interval.high, abs=0.01)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        subject_ci(SCORES, confidence=95)
    with pytest.raises(ValueError, match="method"):
        subject_ci(SCORES, method="z")  # type: ignore[arg-type]


def test_flag_when_the_interval_includes_or_lies_below_chance() -> None:
    ci = SubjectCI(mean=0.6, low=0.52, high=0.68, n=8, n_missing=0, method="t", confidence=0.95)
    assert not flag_not_above_chance(ci, 0.5)
    assert flag_not_above_chance(ci, 0.52)
    assert flag_not_above_chance(ci, 0.6)
    assert flag_not_above_chance(ci, 0.9)
    assert flag_not_above_chance(ci, float("nan"))
    assert flag_not_above_chance(subject_ci([0.9]), 0.5)
    error = SubjectCI(mean=0.8, low=0.7, high=0.9, n=8, n_missing=0, method="t", confidence=0.95)
    assert not flag_not_above_chance(error, 1.0, greater_is_better=False)
    assert flag_not_above_chance(error, 0.85, greater_is_better=False)


def test_holm_on_a_hand_case() -> None:
    # Sorted 0.01, 0.02, 0.03, 0.04 (m = 4): 4*0.01, 3*0.02, max(prev, 2*0.03), max(prev, 1*0.04).
    adjusted = holm([0.04, 0.01, 0.03, 0.02])
    assert adjusted == pytest.approx([0.06, 0.04, 0.06, 0.06])
    # Capped at 1, monotone, NaN kept out of the family.
    adjusted = holm([0.5, float("nan"), 0.001, 0.4])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.8, 0.003, 0.8])
    assert math.isnan(adjusted[1])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert holm([]).shape == (0,)


def test_holm_against_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(0).uniform(0, 0.2, size=12)
    assert holm(p) == pytest.approx(multitest.multipletests(p, method="holm")[1])


def test_smallest_exact_two_sided_p_with_eight_subjects() -> None:
    better = np.arange(1, 9) / 100 + 0.6
    (comparison,) = paired_comparisons({"a": better, "b": better - np.arange(1, 9) / 50})
    assert comparison.p_value == pytest.approx(2 / 2**8) == pytest.approx(0.0078, abs=1e-4)
    assert comparison.statistic == 0.0 and comparison.n == 8
    assert comparison.median_difference == pytest.approx(np.median(np.arange(1, 9) / 50))


def test_paired_comparisons_run_scipy_on_every_pair_with_holm() -> None:
    rng = np.random.default_rng(1)
    scores = {m: rng.uniform(0.4, 0.8, size=10) for m in ("logreg", "histn", "dgcnn")}
    comparisons = paired_comparisons(scores)
    assert [(c.a, c.b) for c in comparisons] == [("logreg", "histn"), ("logreg", "dgcnn"), ("histn", "dgcnn")]
    raw = [stats.wilcoxon(scores[c.a], scores[c.b]) for c in comparisons]
    assert [c.p_value for c in comparisons] == pytest.approx([r.pvalue for r in raw])
    assert [c.statistic for c in comparisons] == pytest.approx([r.statistic for r in raw])
    assert [c.p_holm for c in comparisons] == pytest.approx(holm([r.pvalue for r in raw]))
    assert [c.median_difference for c in comparisons] == pytest.approx(
        [np.median(scores[c.a] - scores[c.b]) for c in comparisons]
    )
    assert set(comparisons[0].to_dict()) == {"a", "b", "statistic", "p_value", "p_holm", "median_difference", "n"}


def test_mappings_are_paired_by_subject_and_nan_left_out() -> None:
    a = {"s1": 0.7, "s2": 0.6, "s3": 0.8, "s4": float("nan"), "s5": 0.9}
    b = {"s3": 0.5, "s1": 0.6, "s2": 0.65, "s4": 0.5}
    (comparison,) = paired_comparisons({"a": a, "b": b})
    assert comparison.n == 3
    assert comparison.p_value == pytest.approx(stats.wilcoxon([0.7, 0.6, 0.8], [0.6, 0.65, 0.5]).pvalue)
    with pytest.raises(ValueError, match="unequal"):
        paired_comparisons({"a": [0.1, 0.2], "b": [0.1]})
    with pytest.raises(TypeError):
        paired_comparisons({"a": a, "b": [0.1]})


def test_identical_or_missing_scores_give_no_evidence() -> None:
    (same,) = paired_comparisons({"a": [0.5, 0.6, 0.7], "b": [0.5, 0.6, 0.7]})
    assert (same.statistic, same.p_value, same.p_holm, same.median_difference) == (0.0, 1.0, 1.0, 0.0)
    (empty,) = paired_comparisons({"a": [float("nan")], "b": [0.5]})
    assert empty.n == 0 and math.isnan(empty.p_value) and math.isnan(empty.p_holm)


def test_protocol_gap_is_the_same_paired_test() -> None:
    within_trial = np.array([0.9, 0.85, 0.95, 0.8, 0.88, 0.92, 0.86, 0.91])
    within_subject = np.array([0.6, 0.62, 0.55, 0.7, 0.58, 0.61, 0.66, 0.57])
    gap = compare_protocols(within_trial, within_subject, "within_trial", "within_subject")
    assert (gap.a, gap.b, gap.n) == ("within_trial", "within_subject", 8)
    assert gap.p_value == gap.p_holm == pytest.approx(stats.wilcoxon(within_trial, within_subject).pvalue)
    assert gap.median_difference > 0


def test_score_with_chance_marks_its_kind_of_chance() -> None:
    stratified = score_with_chance(SCORES, 0.5)
    assert stratified["chance_kind"] == "stratified" and stratified["chance"] == 0.5
    assert stratified["p_value"] is None and stratified["not_above_chance"] is False
    assert stratified["ci"] == subject_ci(SCORES).to_dict()
    null = PermutationChance(0.6, np.array([0.5, 0.62, 0.58]), 0.5, 0.6, 0.62, 3)
    permuted = score_with_chance(SCORES, null)
    assert permuted["chance_kind"] == "permutation" and permuted["chance"] == 0.6
    assert (permuted["p_value"], permuted["null_mean"], permuted["null_p95"]) == (0.5, 0.6, 0.62)
    assert permuted["not_above_chance"] is True
