"""The statistics of a run: each ``metrics.json`` entry's ``statistics`` and ``statistics.json``.

:func:`add_statistics` gives every model x target x task x protocol entry a
``statistics`` key (the layout of ``METRICS_SCHEMA``: per-subject scores and
their SD across folds, the t interval over subjects, the chance reference —
permutation when the entry has one, else the stratified guess — the flag, the
spread over seeds, the stimulus-identity baseline and, for five rating levels
with permutations, the ordinal scores' chance). :func:`run_statistics` builds
``statistics.json``: paired comparisons of the models over subjects (Holm
within one target x task x protocol), protocol gaps of one model, the budget
and the notes. The unit of analysis is the subject, never the window.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from biosig.config import RunConfig
from biosig.evaluation.baseline import labels_for
from biosig.evaluation.labels import class_labels
from biosig.evaluation.regression_metrics import regression_scores
from biosig.evaluation.statistics import compare_protocols, flag_not_above_chance, paired_comparisons, subject_ci
from biosig.evaluation.stimulus_baseline import stimulus_identity_predictions
from biosig.evaluation.targets import is_condition

#: Sources whose trial number is the stimulus (the same clips in the same order for every subject).
SHARED_STIMULUS_SOURCES: tuple[str, ...] = ("synthetic", "dreamer")
ENTRY_KEYS = ("model", "target", "task", "protocol")


def entry_metric(task: str) -> str:
    """The score the statistics are about: ``ccc`` (regression) or ``f1_weighted``."""
    return "ccc" if task == "regression" else "f1_weighted"


def add_statistics(metrics: dict, predictions: pd.DataFrame, trials: pd.DataFrame | None, config: RunConfig) -> None:
    """Add ``statistics`` to every entry of ``metrics`` (in place).

    Parameters
    ----------
    metrics
        ``model -> target -> task -> protocol -> entry``.
    predictions
        Every model's out-of-fold predictions (``model``, ``seed``, ``target``,
        ``task``, ``protocol``, ``fold``, ``subject``, ``trial``, ``y_true``, ``y_pred``).
    trials
        One row per (subject, trial) with the target ratings (``subject``,
        ``trial``, one column per target), the reference of the stimulus
        baseline; ``None`` when unknown.
    config
        The run (source kind, threshold, which models are feature models).
    """
    feature_models = {spec.name for spec in config.feature_models}
    groups = dict(iter(predictions.groupby(list(ENTRY_KEYS), sort=False))) if len(predictions) else {}
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol, entry in by_protocol.items():
                    rows = groups.get((model, target, task, protocol), pd.DataFrame())
                    stimulus = _stimulus_baseline(rows, trials, config, target, task, model in feature_models)
                    entry["statistics"] = entry_statistics(entry, task, rows, stimulus)


def entry_statistics(entry: dict, task: str, rows: pd.DataFrame, stimulus: dict) -> dict:
    """One entry's ``statistics`` (module docstring); ``rows`` its predictions (for the SD across folds)."""
    metric = entry_metric(task)
    per_subject = {s: _value(v, metric) for s, v in entry["per_subject"].items()}
    ci = subject_ci(per_subject, method="t")
    chance = _chance(entry.get("permutation"), entry.get(f"chance_{metric}"))
    seeds = [_value(run, metric) for run in entry["per_seed"].values()] if "per_seed" in entry else [entry[metric]]
    out: dict[str, Any] = {
        "metric": metric,
        "unit": "subject",
        "per_subject": per_subject,
        "per_subject_sd": _fold_sd(rows, metric, list(per_subject)),
        "ci": ci.to_dict(),
        "chance": chance,
        "not_above_chance": flag_not_above_chance(ci, _level(chance)),
        "seeds": {
            "values": seeds,
            "mean": float(np.mean(seeds)),
            "sd": float(np.std(seeds, ddof=1)) if len(seeds) > 1 else float("nan"),
        },
        "stimulus_baseline": stimulus,
    }
    if "permutation_ordinal" in entry:
        out["ordinal"] = {
            name: {"value": entry.get(name), "chance": _chance(perm, None)}
            for name, perm in entry["permutation_ordinal"].items()
        }
    return out


def run_statistics(metrics: dict, config: RunConfig, notes: list[str]) -> dict:
    """``statistics.json``: comparisons, protocol gaps, budget and notes (see the module docstring)."""
    cells: dict[tuple[str, str, str], dict[str, dict]] = {}
    classes: dict[tuple[str, str], dict] = {}
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol, entry in by_protocol.items():
                    scores = entry["statistics"]["per_subject"]
                    cells.setdefault((target, task, protocol), {})[model] = scores
                    if entry.get("classes"):
                        classes[(target, task)] = {"classes": list(entry["classes"])}
    comparisons = [
        {
            "target": target,
            "task": task,
            "protocol": protocol,
            "metric": entry_metric(task),
            "pairs": [c.to_dict() for c in paired_comparisons(by_model)],
            **classes.get((target, task), {}),
        }
        for (target, task, protocol), by_model in cells.items()
        if len(by_model) > 1
    ]
    gaps = []
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for a, b in combinations(_gap_order(by_protocol), 2):
                    scores_a = by_protocol[a]["statistics"]["per_subject"]
                    scores_b = by_protocol[b]["statistics"]["per_subject"]
                    gap = compare_protocols(scores_a, scores_b, a, b).to_dict()
                    del gap["p_holm"]
                    gaps.append({"model": model, "target": target, "task": task, "metric": entry_metric(task), **gap,
                                 **classes.get((target, task), {})})
    return {"comparisons": comparisons, "protocol_gaps": gaps, "budget": budget(config), "notes": notes}


def budget(config: RunConfig) -> dict:
    """What each model ran: tasks, protocols, folds (per subject, or LOSO subjects), epochs, permutations, seeds."""
    ev = config.evaluation
    models = {}
    for spec in config.models:
        own = ev.for_model(spec)
        deep = not spec.is_feature_model
        models[spec.name] = {
            "epochs": config.train.epochs if deep else None,
            "folds": min(own.max_folds or own.n_folds, own.n_folds) if deep else own.n_folds,
            "n_folds": own.n_folds,
            "protocols": list(own.protocols),
            "tasks": list(own.tasks),
            "targets": list(own.targets),
        }
    return {
        "models": models,
        "permutations": {spec.name: ev.for_model(spec).permutations for spec in config.models},
        "seeds": list(ev.seeds),
    }


def trial_ratings(meta: pd.DataFrame, targets: tuple[str, ...]) -> pd.DataFrame:
    """One row per (subject, trial) of a window table: ``subject``, ``trial`` and each target's rating."""
    table = meta[["subject", "trial", *targets]].copy()
    table["subject"] = table["subject"].astype(str)
    return table.groupby(["subject", "trial"], sort=True).first().reset_index()


def _stimulus_baseline(
    rows: pd.DataFrame, trials: pd.DataFrame | None, config: RunConfig, target: str, task: str, feature_model: bool
) -> dict:
    """The stimulus-identity baseline on the entry's tested windows (clip = trial number), or why not."""
    if is_condition(target):
        return {"applicable": False, "reason": "a condition target has no stimulus shared across subjects"}
    if config.source.kind not in SHARED_STIMULUS_SOURCES or trials is None:
        return {"applicable": False, "reason": "no stimulus shared across subjects"}
    if target not in trials or not len(rows):
        return {"applicable": False, "reason": f"no {target} ratings per trial"}
    ratings = trials[target].to_numpy()
    ev = config.evaluation
    if task == "regression":
        reference, kind = ratings.astype(float), "mean"
    elif feature_model:
        reference, kind = labels_for(ratings, task, ev.threshold), "mode"
    else:
        reference, kind = class_labels(ratings, task, ev.threshold, name=target), "mode"
    tested = rows[rows["seed"] == rows["seed"].iloc[0]]
    n_ref, n_test = len(trials), len(tested)
    result = stimulus_identity_predictions(
        np.concatenate([reference, tested["y_true"].to_numpy(dtype=float)]),
        np.concatenate([trials["subject"].to_numpy(str), tested["subject"].to_numpy(str)]),
        np.concatenate([trials["trial"].to_numpy(), tested["trial"].to_numpy()]),
        test_mask=np.r_[np.zeros(n_ref, bool), np.ones(n_test, bool)],
        kind=kind,
        reference_mask=np.r_[np.ones(n_ref, bool), np.zeros(n_test, bool)],
    )
    if not result.applicable:
        return {"applicable": False, "reason": result.reason}
    predicted = result.predictions[n_ref:]
    scored = tested.assign(y_stim=predicted)[~np.isnan(predicted)]
    metric = entry_metric(task)
    per_subject = {
        str(s): _score(g["y_true"].to_numpy(), g["y_stim"].to_numpy(), metric)
        for s, g in scored.groupby("subject", sort=False)
    }
    score = float(np.nanmean(list(per_subject.values()))) if per_subject else float("nan")
    return {"applicable": True, "score": score, "per_subject": per_subject, "reason": None, "n_missing": result.n_missing}


def _score(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> float:
    if metric == "ccc":
        return float(regression_scores(y_true.astype(float), y_pred.astype(float))["ccc"])
    return float(f1_score(y_true.astype(int), np.asarray(y_pred).astype(int), average="weighted", zero_division=0))


def _fold_sd(rows: pd.DataFrame, metric: str, subjects: list[str]) -> dict[str, float]:
    """SD across each subject's folds (scores averaged over seeds per fold); NaN with one fold."""
    out = {s: float("nan") for s in subjects}
    if not len(rows) or "fold" not in rows:
        return out
    per_fold = (
        rows.groupby(["subject", "fold", "seed"], sort=False)
        .apply(lambda g: _score(g["y_true"].to_numpy(), g["y_pred"].to_numpy(), metric), include_groups=False)
        .groupby(level=[0, 1], sort=False)
        .mean()
    )
    for subject, scores in per_fold.groupby(level=0, sort=False):
        if len(scores) > 1:
            out[str(subject)] = float(np.std(scores.to_numpy(), ddof=1))
    return out


def _chance(permutation: dict | None, stratified: float | None) -> dict:
    """The schema's ``chance``: the permutation null when there is one, else the stratified level."""
    if permutation is not None:
        return {
            "kind": "permutation",
            "level": permutation["null_mean"],
            "p_value": permutation["p_value"],
            "null_mean": permutation["null_mean"],
            "null_p95": permutation["null_p95"],
            "n_permutations": len(permutation["null"]),
        }
    level = float("nan") if stratified is None else float(stratified)
    return {"kind": "stratified", "level": level, "p_value": None, "null_mean": None, "null_p95": None, "n_permutations": 0}


def _level(chance: dict) -> float:
    return float("nan") if chance["level"] is None else float(chance["level"])


def _value(score: Any, metric: str) -> float:
    """A per-subject score: a number (feature baseline) or a mapping of scores (deep models)."""
    return float(score[metric]) if isinstance(score, dict) else float(score)


def _gap_order(by_protocol: dict) -> list[str]:
    """Protocols of one model in the order the gaps read: the leaky within-trial split first."""
    order = ("histn_blocks", "within_subject", "loso")
    return sorted(by_protocol, key=lambda p: order.index(p) if p in order else len(order))
