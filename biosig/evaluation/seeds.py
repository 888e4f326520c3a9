"""Scores of several seeds in one ``metrics.json`` entry.

Each model is evaluated once per seed of ``evaluation.seeds``. With one seed
its scores are written as they are. With several, :func:`combine_seeds` gives
one entry per model x target x task x protocol whose numbers are the mean over
seeds (numbers, and lists or mappings of numbers of the same shape such as
confusion matrices and per-subject scores, element by element), and whose
``per_seed`` maps each seed (as a string) to that seed's own scores. Entries
that are not numbers (e.g. the per-fold records of deep models) are kept only
under ``per_seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def combine_seeds(per_seed: dict[int, dict]) -> dict:
    """Merge ``metrics[model][target][task][protocol]`` of each seed into one such tree (module docstring)."""
    seeds = list(per_seed)
    if not seeds:
        return {}  # nothing ran (every combination skipped)
    if len(seeds) == 1:
        return per_seed[seeds[0]]
    combined: dict = {}
    first = per_seed[seeds[0]]
    for model, by_target in first.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol in by_protocol:
                    runs = [per_seed[s][model][target][task][protocol] for s in seeds]
                    entry = _mean(runs)
                    entry["per_seed"] = {str(s): run for s, run in zip(seeds, runs)}
                    combined.setdefault(model, {}).setdefault(target, {}).setdefault(task, {})[protocol] = entry
    return combined


def _mean(values: list[Any]) -> Any:
    """Element-wise mean of equally shaped numbers, lists and mappings (equal values kept as they are); ``None`` where they differ and are not numbers."""
    first = values[0]
    if not isinstance(first, dict) and all(v == first for v in values):
        return first
    if isinstance(first, dict):
        keys = [k for k in first if all(isinstance(v, dict) and k in v for v in values)]
        means = {k: _mean([v[k] for v in values]) for k in keys}
        return {k: m for k, m in means.items() if m is not None}
    if isinstance(first, (bool, str)):
        return None
    if isinstance(first, (int, float)):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return float(np.mean(values))
        return None
    if isinstance(first, list):
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            return None
        return array.mean(axis=0).tolist()
    return None
