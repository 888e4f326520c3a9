"""Deep-model experiments: every deep model x target x task x protocol x seed of a :class:`~biosig.config.RunConfig`.

:func:`~graphs.training.deep_inputs.model_inputs` builds, once, the inputs the
models need; :func:`run_experiment` trains one model per fold
(:mod:`graphs.training.folds`) and scores the out-of-fold predictions.

Protocols (``evaluation.protocols``, :mod:`graphs.training.splits`):

* ``histn_blocks``: per subject, 10 within-trial blocks (HiSTN's published
  subject-dependent split; the gap before held-out blocks is one window);
* ``within_subject``: per subject, ``n_folds`` folds of whole trials, the
  trials the feature baseline holds out too (:func:`~graphs.training.folds.shared_trial_folds`);
* ``loso``: one fold per subject; with ``label_correction`` the training
  labels become each clip's most frequent label among the training subjects
  (validation keeps the raw labels); with ``finetune.seconds`` the model is
  then fine-tuned on the test subject's first seconds of every trial
  (parameters under ``finetune.freeze`` fixed, balanced batches standing in
  for the authors' max/count class weights) and tested on the rest.

Folds run through :class:`biosig.executor.Executor` (serial, ``workers``
local processes, or the Dask cluster at ``scheduler``), the executor of the
cohort preprocessing. The result is nested like ``metrics.json``:
``metrics[model][target][task][protocol]``
holds the subject-averaged scores (:func:`~graphs.training.ordinal_metrics.subject_mean_scores`),
``chance_f1_weighted`` and ``chance_balanced_accuracy`` (a stratified random
guess fitted on each fold's training labels), ``parameters``, per-fold
records (sizes, epochs, training seconds, inference windows/s), the mean
training seconds per fold and the inference throughput. With several
``evaluation.seeds`` every combination runs once per seed and the seeds are
combined by :func:`biosig.evaluation.seeds.combine_seeds` (mean and per-seed scores).
With ``permutations`` (``evaluation`` or the model's own) each combination's
fold loop is rerun on ratings shuffled between the trials of each subject
(:mod:`graphs.training.permutation_runs`), the folds kept. HiSTN's recipe
options (random-crop batches and test sets, the shared checkpoint, the
authors' ``authors_*`` scores) act through :mod:`graphs.training.recipe`.

Task ``regression`` (one output, targets and binned ratings from
:mod:`biosig.evaluation.labels`, see :class:`~biosig.config.EvaluationConfig`) is
scored on the rating scale per subject and averaged
(:func:`~biosig.evaluation.regression_metrics.subject_mean_regression_scores`:
``ccc``, ``pearson_r``, ``rmse``, ``mae``); its chance is the training mean
rating of each fold (scikit-learn's ``DummyRegressor``): ``chance_ccc`` (near
0: the guess is constant within a fold, so only the folds' different means
correlate), ``chance_rmse``, ``chance_mae``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from biosig.config import EvaluationConfig, ModelSpec, RunConfig
from biosig.errors import DataError
from biosig.evaluation.labels import (
    N_CLASSES,
    class_labels,
    rating_bins,
    ratings_from_targets,
    regression_targets,
)
from biosig.evaluation.metrics import subject_roc_auc
from biosig.evaluation.regression_metrics import subject_mean_regression_scores
from biosig.evaluation.seeds import combine_seeds
from biosig.evaluation.targets import TargetTask, condition_labels, protocol_skip, target_tasks
from biosig.executor import Executor
from graphs.models import build_model, count_parameters
from graphs.training.deep_inputs import (
    check_models,
    input_kind,
    model_hparams,
    model_inputs,
    spec_inputs,
)
from graphs.training.folds import (
    FoldJob,
    FoldOutcome,
    load_model,
    make_fold_job,
    output_head,
    protocol_folds,
    run_fold,
)
from graphs.training.ordinal_metrics import subject_mean_scores
from graphs.training.permutation_runs import ORDINAL_METRICS, permutation_scores
from graphs.training.progress import RunProgress
from graphs.training.recipe import authors_fold_scores, fold_jobs
from graphs.training.windows_dataset import WindowSet

__all__ = [
    "FoldJob",
    "FoldOutcome",
    "input_kind",
    "load_model",
    "make_fold_job",
    "model_inputs",
    "protocol_folds",
    "run_experiment",
    "run_fold",
    "spec_inputs",
]


def run_experiment(
    inputs: dict[str, WindowSet],
    config: RunConfig,
    models: Sequence[ModelSpec] | None = None,
    on_step: Callable[[str], None] | None = None,
    progress: RunProgress | None = None,
    notes: list[str] | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Train and score every deep model x target x task x protocol, once per evaluation seed.

    Parameters
    ----------
    inputs
        From :func:`~graphs.training.deep_inputs.model_inputs` for these models
        (or :func:`~graphs.training.windows_dataset.cohort_windows`).
    config
        The run: ``evaluation`` (targets, tasks, protocols, seeds, permutations,
        each model's own ``tasks``/``protocols``/``permutations`` applied by
        :meth:`~biosig.config.EvaluationConfig.for_model`) and ``train``.
    models
        The deep models to run (default: every deep model of ``config.models``).
    on_step
        Called with ``"<model> <target> <task> <protocol> seed <seed>"`` before each combination.
    progress
        Bars for the combinations, folds and epochs (:class:`~graphs.training.progress.RunProgress`).
    notes
        When given, what is skipped (:func:`deep_plan`) is appended to it.

    Returns
    -------
    metrics
        ``metrics[model][target][task][protocol]`` (see the module docstring);
        with permutations an entry gains ``permutation`` (the primary score's
        :meth:`~biosig.evaluation.chance.PermutationChance.to_dict`) and, for
        ``five_class``, ``permutation_ordinal`` (the same for ``seq2hr``,
        ``top2_accuracy`` and ``tri_p``).
    predictions
        One row per tested window, combination and seed: model, target, task,
        protocol, seed, fold, subject, trial, offset, y_true, y_pred, expected
        (probability-weighted class index). Regression rows: ``y_true`` the
        rating, ``y_pred`` and ``expected`` the predicted rating.
    """
    models = config.deep_models if models is None else tuple(models)
    check_models(models)
    per_seed: dict[int, dict] = {}
    frames = []
    plan, skipped = deep_plan(inputs, config, models)
    if notes is not None:
        notes += [n for n in skipped if n not in notes]
    if progress is not None:
        progress.start("combinations", "deep models: combinations", len(plan))
    with Executor(workers=config.train.workers, scheduler=config.train.scheduler) as executor:
        for seed, spec, combo, protocol in plan:
            target, task = combo.target, combo.task
            metrics = per_seed.setdefault(seed, {})
            kind = input_kind(spec.name)
            if kind not in inputs:
                raise DataError(f"model {spec.name} needs {kind!r} inputs; got {sorted(inputs)}")
            step = f"{spec.name} {target} {task} {protocol} seed {seed}"
            if on_step is not None:
                on_step(step)
            n_classes = 1 if task == "regression" else combo.n_classes or N_CLASSES[task]
            head = {"n_outputs": n_classes, "output": output_head(task)}
            n_params = count_parameters(build_model(spec.name, **head, **model_hparams(spec, inputs[kind]))).trainable
            scores, frame = _run_combination(executor, inputs[kind], spec, combo, protocol, config, seed, progress)
            scores["parameters"] = n_params
            metrics.setdefault(spec.name, {}).setdefault(target, {}).setdefault(task, {})[protocol] = scores
            frames.append(frame.assign(model=spec.name, target=target, task=task, protocol=protocol, seed=seed))
            if progress is not None:
                progress.advance("combinations", f"deep models: {step}")
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return combine_seeds(per_seed), predictions


def deep_plan(
    inputs: dict[str, WindowSet], config: RunConfig, models: Sequence[ModelSpec]
) -> tuple[list[tuple[int, ModelSpec, TargetTask, str]], list[str]]:
    """``(seed, model, target x task, protocol)`` to run, and notes on what cannot run on these windows.

    Rating targets take each model's tasks, the condition target its own
    (:func:`~biosig.evaluation.targets.target_tasks`); ``within_subject`` and
    ``loso`` are checked by :func:`~biosig.evaluation.targets.protocol_skip`.
    """
    meta = next(iter(inputs.values())).meta
    plan, notes = [], []
    for spec in models:
        own = config.evaluation.for_model(spec)
        runs = []
        for target in own.targets:
            values = meta[target].to_numpy() if target in meta else None
            combos, skipped = target_tasks(target, values, own.tasks)
            notes += [f"{spec.name}: {n}" for n in skipped]
            for combo in combos:
                strata = values if combo.classes is not None else _strata(values, combo.task, own, target)
                for protocol in own.protocols:
                    reason = protocol_skip(
                        protocol, meta["subject"].to_numpy(), meta["trial"].to_numpy(), strata, own.n_folds,
                        combo.classes is not None,
                    )
                    if reason is None:
                        runs.append((combo, protocol))
                    else:
                        notes.append(f"{spec.name}: {target} {combo.task}: {reason}")
        plan += [(seed, spec, combo, protocol) for seed in config.evaluation.seeds for combo, protocol in runs]
    return plan, list(dict.fromkeys(notes))


def _strata(ratings: np.ndarray, task: str, cfg: EvaluationConfig, target: str) -> np.ndarray:
    """The classes folds stratify on: the task's class labels, or the rating bins of regression."""
    if task == "regression":
        return rating_bins(ratings, cfg.rating_range, name=target)
    return task_labels(ratings, task, cfg, target)[0]


def task_labels(
    ratings: np.ndarray, task: str, cfg: EvaluationConfig, target: str, classes: Sequence[str] | None = None
) -> tuple[np.ndarray, int]:
    """``(y, n_classes)`` of a task from ratings ``(n_windows,)``: class indices, or regression targets and 1.

    A condition target (``classes`` given): the conditions' indices in ``classes``.
    """
    if classes is not None:
        return condition_labels(ratings, classes), len(classes)
    if task == "regression":
        return regression_targets(ratings, cfg.rating_range, name=target), 1
    return class_labels(ratings, task, cfg.threshold, name=target), N_CLASSES[task]


def _run_combination(
    executor: Executor,
    data: WindowSet,
    spec: ModelSpec,
    combo: TargetTask,
    protocol: str,
    config: RunConfig,
    seed: int,
    progress: RunProgress | None,
) -> tuple[dict, pd.DataFrame]:
    """One combination: its folds (cut once from the true labels), scores, and permutation reruns if configured."""
    cfg = config.evaluation.for_model(spec)
    target, task = combo.target, combo.task
    ratings = data.meta[target].to_numpy()
    y, n_classes = task_labels(ratings, task, cfg, target, combo.classes)
    # Folds stratify on classes; regression on the binned ratings.
    strata = rating_bins(ratings, cfg.rating_range, name=target) if task == "regression" else y
    folds = list(protocol_folds(protocol, data.meta, strata, cfg, spec.input_windows, seed))
    if not folds:
        raise DataError(f"protocol {protocol} gave no folds")
    combination = (spec, combo, protocol, folds, seed)
    scores, frame = _score_folds(executor, data, combination, config, progress)
    if cfg.permutations:
        quiet = config.model_copy(update={"train": config.train.model_copy(update={"checkpoint_dir": None})})

        def evaluate(shuffled: np.ndarray) -> dict:
            permuted = dataclasses.replace(data, meta=data.meta.assign(**{target: shuffled}))
            return _score_folds(executor, permuted, combination, quiet, progress)[0]

        metric = "ccc" if task == "regression" else "f1_weighted"
        extra = ORDINAL_METRICS if task == "five_class" else ()
        subjects, trials = data.meta["subject"].to_numpy(), data.meta["trial"].to_numpy()
        chances = permutation_scores(evaluate, (metric, *extra), ratings, subjects, trials, cfg.permutations, seed)
        scores["permutation"] = chances[metric].to_dict()
        if extra:
            scores["permutation_ordinal"] = {m: chances[m].to_dict() for m in extra}
    return scores, frame


def _score_folds(
    executor: Executor, data: WindowSet, combination: tuple, config: RunConfig, progress: RunProgress | None
) -> tuple[dict, pd.DataFrame]:
    """Train every fold of ``combination`` on ``data`` (its ratings give the labels) and score the out-of-fold predictions."""
    spec, combo, protocol, folds, seed = combination
    target, task = combo.target, combo.task
    meta, cfg = data.meta, config.evaluation.for_model(spec)
    regression = task == "regression"
    y, n_classes = task_labels(meta[target].to_numpy(), task, cfg, target, combo.classes)
    tested_tables: list[pd.DataFrame] = []
    # A generator: run serially, only one fold's copy of its rows is alive at a time.
    jobs = fold_jobs(data, y, n_classes, spec, (target, task, protocol), folds, config, seed, tested_tables)
    outcomes = _run_folds(executor, jobs, folds, config, f"{spec.name} {target} {task} {protocol}", progress)
    probs = [outcome.probabilities for outcome in outcomes]
    chance = [outcome.chance for outcome in outcomes]
    records = [outcome.record for outcome in outcomes]
    table = pd.concat(tested_tables, ignore_index=True)
    tested = table["row"].to_numpy()
    windows = tested[tested >= 0]
    if len(np.unique(windows)) != len(windows):
        raise DataError(f"protocol {protocol}: a window was tested twice")
    proba = np.concatenate(probs)
    subjects = table["subject"].to_numpy()
    if regression:
        y_true = meta[target].to_numpy()[tested].astype(float)
        y_pred = expected = ratings_from_targets(proba[:, 0], cfg.rating_range)
        scores = subject_mean_regression_scores(y_true, y_pred, subjects)
        guess = ratings_from_targets(np.concatenate(chance), cfg.rating_range)
        chance_scores = subject_mean_regression_scores(y_true, guess, subjects)
        for name in ("ccc", "rmse", "mae"):
            scores[f"chance_{name}"] = chance_scores[name]
    else:
        y_true, y_pred, expected = table["label"].to_numpy().astype(np.int64), proba.argmax(axis=1), proba @ np.arange(n_classes)
        labels = list(range(n_classes))
        scores = subject_mean_scores(y_true, proba, subjects, labels)
        chance_scores = subject_mean_scores(y_true, np.eye(n_classes)[np.concatenate(chance)], subjects, labels)
        scores["chance_f1_weighted"] = chance_scores["f1_weighted"]
        scores["chance_balanced_accuracy"] = chance_scores["balanced_accuracy"]
        if n_classes == 2:
            scores.update(subject_roc_auc(y_true, proba[:, 1], subjects))
        if cfg.authors_metrics:
            scores.update(authors_fold_scores(table, proba, n_classes))
        if combo.classes is not None:
            scores["classes"] = list(combo.classes)
    train_seconds = [r["train_seconds"] for r in records]
    inference_seconds = sum(r["inference_seconds"] for r in records)
    scores["train_seconds_per_fold"] = float(np.mean(train_seconds))
    scores["inference_windows_per_s"] = len(tested) / inference_seconds if inference_seconds > 0 else float("inf")
    scores["folds"] = records
    frame = table[["subject", "trial", "offset", "fold"]].assign(y_true=y_true, y_pred=y_pred, expected=expected)
    return scores, frame


def _run_folds(
    executor: Executor,
    jobs: Iterator[FoldJob],
    folds: list,
    config: RunConfig,
    label: str,
    progress: RunProgress | None,
) -> list[FoldOutcome]:
    """Every fold's outcome; serial runs show fold and epoch bars, other executors train out of process."""
    if progress is None:
        return list(executor.map(run_fold, jobs))
    progress.start("folds", f"  folds of {label}", len(folds))
    if executor.kind != "serial":
        outcomes = []
        for outcome in executor.map(run_fold, jobs):
            outcomes.append(outcome)
            progress.advance("folds")
        return outcomes
    outcomes = []
    for job in jobs:
        progress.start("epochs", f"  epochs of {job.fold}", config.train.epochs)
        outcomes.append(run_fold(job, on_epoch=lambda epoch, loss, fold=job.fold: progress.epoch(fold, epoch, loss)))
        progress.advance("folds")
    return outcomes
