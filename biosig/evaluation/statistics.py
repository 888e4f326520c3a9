"""Statistics over subjects: confidence intervals, the chance flag, paired comparisons with Holm's correction.

The unit of analysis is the subject, never the window: every function here
takes one score per subject (e.g. ``metrics[...]["per_subject"]``, a mapping
subject -> score, or an array over subjects).

* :func:`subject_ci`: mean over subjects with a confidence interval, by
  Student's t over subjects or by a seeded percentile bootstrap over subjects.
* :func:`flag_not_above_chance`: whether an interval fails to clear a chance
  level (see :mod:`biosig.evaluation.chance` for the chance levels);
  :func:`score_with_chance` puts interval, chance and flag in one entry.
* :func:`paired_comparisons`: Wilcoxon signed-rank tests over subjects for
  every pair of models, Holm-corrected within that family (:func:`holm`).
* :func:`compare_protocols`: the same paired test for one model under two
  protocols (e.g. the within-trial leakage gap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from scipy import stats

from biosig.evaluation.chance import PermutationChance

#: Per-subject scores: a mapping subject -> score, or a sequence/array ordered by subject.
SubjectScores = Mapping[str, float] | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class SubjectCI:
    """Mean over subjects with its confidence interval (all in the score's own unit).

    ``n`` counts the subjects used; ``n_missing`` the NaN subjects left out.
    ``low``/``high`` are NaN when fewer than 2 subjects remain.
    """

    mean: float
    low: float
    high: float
    n: int
    n_missing: int
    method: Literal["t", "bootstrap"]
    confidence: float

    def to_dict(self) -> dict:
        """Plain dict for ``metrics.json``."""
        return asdict(self)


@dataclass(frozen=True)
class PairedComparison:
    """One Wilcoxon signed-rank test of ``a`` vs ``b`` over subjects.

    ``median_difference`` is the median over subjects of ``score_a - score_b``
    (positive: ``a`` scores higher); ``n`` counts the subjects with both
    scores; ``p_holm`` is ``p_value`` Holm-adjusted within its family (equal
    to ``p_value`` for a family of one). ``statistic`` and the p-values are NaN
    when no subject has both scores.
    """

    a: str
    b: str
    statistic: float
    p_value: float
    p_holm: float
    median_difference: float
    n: int

    def to_dict(self) -> dict:
        """Plain dict for ``metrics.json``."""
        return asdict(self)


def subject_values(scores: SubjectScores) -> np.ndarray:
    """The scores as a float array ``(n_subjects,)`` (a mapping's values in its order)."""
    if isinstance(scores, Mapping):
        return np.asarray(list(scores.values()), dtype=float)
    return np.asarray(scores, dtype=float).ravel()


def subject_ci(
    scores: SubjectScores,
    method: Literal["t", "bootstrap"] = "t",
    confidence: float = 0.95,
    seed: int = 0,
    n_bootstrap: int = 10_000,
) -> SubjectCI:
    """Mean over subjects and its ``confidence`` interval.

    Parameters
    ----------
    scores
        One score per subject (mapping subject -> score, or ``(n_subjects,)``);
        NaN subjects are left out and counted in ``n_missing``.
    method
        ``"t"``: ``mean +- t_{(1+confidence)/2, n-1} * sd / sqrt(n)`` (sd with
        ``ddof=1``). ``"bootstrap"``: percentile interval of the means of
        ``n_bootstrap`` resamples of the subjects with replacement.
    confidence
        Coverage of the interval, in (0, 1).
    seed
        Seed of the bootstrap resampling (unused by ``"t"``).
    n_bootstrap
        Number of bootstrap resamples.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    values = subject_values(scores)
    finite = values[~np.isnan(values)]
    n = len(finite)
    mean = float(finite.mean()) if n else float("nan")
    low = high = float("nan")
    if n >= 2 and method == "t":
        half = stats.t.ppf((1 + confidence) / 2, n - 1) * finite.std(ddof=1) / np.sqrt(n)
        low, high = mean - half, mean + half
    elif n >= 2:
        rng = np.random.default_rng(seed)
        means = finite[rng.integers(0, n, size=(n_bootstrap, n))].mean(axis=1)
        tail = 100 * (1 - confidence) / 2
        low, high = np.percentile(means, [tail, 100 - tail])
    return SubjectCI(mean, float(low), float(high), n, len(values) - n, method, confidence)


def flag_not_above_chance(ci: SubjectCI, chance: float, greater_is_better: bool = True) -> bool:
    """True when the interval includes chance or lies on its wrong side.

    For a score where higher is better that is ``low <= chance``; for an error
    (``greater_is_better=False``, e.g. RMSE) ``high >= chance``. An interval
    that cannot be computed (fewer than 2 subjects, NaN bounds) or a NaN chance
    is flagged too: nothing shows the score above chance.
    """
    bound = ci.low if greater_is_better else ci.high
    if np.isnan(bound) or np.isnan(chance):
        return True
    return bool(bound <= chance) if greater_is_better else bool(bound >= chance)


def score_with_chance(
    scores: SubjectScores,
    chance: PermutationChance | float,
    method: Literal["t", "bootstrap"] = "t",
    confidence: float = 0.95,
    seed: int = 0,
    greater_is_better: bool = True,
) -> dict:
    """One score's entry for ``metrics.json``: its interval over subjects, its chance reference and the flag.

    ``chance`` is a :class:`~biosig.evaluation.chance.PermutationChance`
    (``chance_kind = "permutation"``; the chance level is the null mean, and
    ``p_value``, ``null_mean`` and ``null_p95`` are filled) or a number, the
    stratified-chance level (``chance_kind = "stratified"``; those three are
    ``None``). Keys: ``ci`` (:meth:`SubjectCI.to_dict`), ``chance_kind``,
    ``chance``, ``p_value``, ``null_mean``, ``null_p95``, ``not_above_chance``
    (:func:`flag_not_above_chance` of the interval against the chance level).
    """
    ci = subject_ci(scores, method=method, confidence=confidence, seed=seed)
    if isinstance(chance, PermutationChance):
        level = chance.null_mean
        extra = {"p_value": chance.p_value, "null_mean": chance.null_mean, "null_p95": chance.null_p95}
        kind = chance.chance_kind
    else:
        level, extra, kind = float(chance), {"p_value": None, "null_mean": None, "null_p95": None}, "stratified"
    return {
        "ci": ci.to_dict(),
        "chance_kind": kind,
        "chance": level,
        **extra,
        "not_above_chance": flag_not_above_chance(ci, level, greater_is_better),
    }


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input order, ``(m,)``.

    The k-th smallest of the ``m`` finite p-values (k = 0, 1, ...) becomes
    ``max_{j <= k} min(1, (m - j) * p_(j))``; NaN p-values stay NaN and do not
    count in ``m``. Rejecting where the adjusted p is <= alpha controls the
    family-wise error rate at alpha.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    m = len(finite)
    if m == 0:
        return adjusted
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def paired_comparisons(scores_by_model: Mapping[str, SubjectScores]) -> list[PairedComparison]:
    """Wilcoxon signed-rank test over subjects for every pair of models, Holm-corrected within the family.

    The family is the one passed in: all model pairs of one target, task and
    protocol. Scores given as mappings are paired by subject id (subjects that
    one model lacks are left out of that pair); arrays are paired by position
    and must have equal lengths. A subject NaN for either model is left out of
    that pair.

    With few subjects the test is weak: the smallest two-sided exact p-value is
    ``2 / 2**n`` (8 subjects: 0.0078), so report the statistics rather than
    testing for significance.

    Returns
    -------
    One :class:`PairedComparison` per pair, in the order of
    ``itertools.combinations(models, 2)``.
    """
    pairs = [
        _wilcoxon(a, b, *_paired(scores_by_model[a], scores_by_model[b]))
        for a, b in combinations(scores_by_model, 2)
    ]
    adjusted = holm([c.p_value for c in pairs])
    return [PairedComparison(**{**asdict(c), "p_holm": float(q)}) for c, q in zip(pairs, adjusted)]


def compare_protocols(
    scores_a: SubjectScores, scores_b: SubjectScores, protocol_a: str, protocol_b: str
) -> PairedComparison:
    """Wilcoxon signed-rank test of one model's per-subject scores under two protocols.

    E.g. ``within_trial`` vs ``within_subject``: ``median_difference > 0``
    means ``protocol_a`` scores higher (the leakage gap). A family of one:
    ``p_holm == p_value``. Pairing as in :func:`paired_comparisons`.
    """
    return _wilcoxon(protocol_a, protocol_b, *_paired(scores_a, scores_b))


def _paired(a: SubjectScores, b: SubjectScores) -> tuple[np.ndarray, np.ndarray]:
    """Aligned ``(n,)`` arrays of the subjects with both scores finite."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        common = [s for s in a if s in b]
        x = np.array([a[s] for s in common], dtype=float)
        y = np.array([b[s] for s in common], dtype=float)
    elif isinstance(a, Mapping) or isinstance(b, Mapping):
        raise TypeError("pair scores of the same kind: both mappings subject -> score, or both arrays")
    else:
        x, y = subject_values(a), subject_values(b)
        if len(x) != len(y):
            raise ValueError(f"scores over subjects of unequal lengths: {len(x)} and {len(y)}")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def _wilcoxon(a: str, b: str, x: np.ndarray, y: np.ndarray) -> PairedComparison:
    """Two-sided Wilcoxon signed-rank (scipy's ``method="auto"``: exact without ties or zeros up to 50 subjects)."""
    n = len(x)
    if n == 0:
        return PairedComparison(a, b, float("nan"), float("nan"), float("nan"), float("nan"), 0)
    difference = x - y
    median = float(np.median(difference))
    if not np.any(difference):
        # Identical scores for every subject: no evidence of a difference.
        return PairedComparison(a, b, 0.0, 1.0, 1.0, median, n)
    result = stats.wilcoxon(x, y, alternative="two-sided")
    p = float(result.pvalue)
    return PairedComparison(a, b, float(result.statistic), p, p, median, n)
