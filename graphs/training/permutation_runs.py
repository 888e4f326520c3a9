"""Permutation chance of several scores from one set of shuffled reruns.

:func:`biosig.evaluation.chance.permutation_chance` scores one number per
rerun. A deep model's rerun is expensive and gives every score at once (F1,
and for five rating levels the ordinal Seq2HR, top-2 and Tri-P), so
:func:`permutation_scores` runs the shuffles once, keeps each rerun's scores,
and builds every metric's null from the same reruns (the same shuffles, drawn
from the same seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from biosig.evaluation.chance import PermutationChance, permutation_chance

#: The ordinal scores of five rating levels whose chance comes from the same reruns.
ORDINAL_METRICS: tuple[str, ...] = ("seq2hr", "top2_accuracy", "tri_p")


def permutation_scores(
    evaluate: Callable[[np.ndarray], dict],
    metrics: Sequence[str],
    labels: np.ndarray,
    subjects: np.ndarray,
    trials: np.ndarray,
    n_permutations: int,
    seed: int,
    greater_is_better: Sequence[bool] | None = None,
) -> dict[str, PermutationChance]:
    """``{metric: PermutationChance}`` of every metric, from one observed run and ``n_permutations`` shuffled runs.

    Parameters
    ----------
    evaluate
        Runs the whole fold loop on ``(n_windows,)`` labels and returns the
        scores (a mapping that holds every name of ``metrics``).
    metrics
        The scores to test; the first drives the reruns.
    labels, subjects, trials, n_permutations, seed
        As in :func:`~biosig.evaluation.chance.permutation_chance`.
    greater_is_better
        Per metric (default: True for all).
    """
    better = [True] * len(metrics) if greater_is_better is None else list(greater_is_better)
    runs: list[dict] = []

    def run(values: np.ndarray) -> float:
        runs.append(evaluate(values))
        return float(runs[-1][metrics[0]])

    out = {metrics[0]: permutation_chance(run, labels, subjects, trials, n_permutations, seed, better[0])}
    for metric, up in zip(metrics[1:], better[1:]):
        replay = iter(runs)
        out[metric] = permutation_chance(
            lambda _values, m=metric: float(next(replay)[m]), labels, subjects, trials, n_permutations, seed, up
        )
    return out
