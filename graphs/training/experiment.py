"""Deep-model experiments: every deep model x target x task x protocol x seed of a :class:`~biosig.config.RunConfig`.

:func:`~graphs.training.deep_inputs.model_inputs` builds, once, the inputs the
models need; :func:`run_experiment` trains one model per fold
(:mod:`graphs.training.folds`) and scores the out-of-fold predictions.

Protocols (``evaluation.protocols``, :mod:`graphs.training.splits`):

* ``histn_blocks``: per subject, 10 within-trial blocks (HiSTN's published
  subject-dependent split; the gap before held-out blocks is one window);
* ``within_subject``: per subject, ``n_folds`` folds of whole trials
  (:func:`~graphs.training.splits.leave_trials_out`);
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

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from biosig.config import ModelSpec, RunConfig
from biosig.errors import DataError
from biosig.evaluation.labels import (
    N_CLASSES,
    class_labels,
    rating_bins,
    ratings_from_targets,
    regression_targets,
)
from biosig.evaluation.regression_metrics import subject_mean_regression_scores
from biosig.evaluation.seeds import combine_seeds
from biosig.executor import Executor
from graphs.models import build_model, count_parameters
from graphs.training.deep_inputs import (
    check_models,
    input_kind,
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
) -> tuple[dict, pd.DataFrame]:
    """Train and score every deep model x target x task x protocol, once per evaluation seed.

    Parameters
    ----------
    inputs
        From :func:`~graphs.training.deep_inputs.model_inputs` for these models
        (or :func:`~graphs.training.windows_dataset.cohort_windows`).
    config
        The run: ``evaluation`` (targets, tasks, protocols, seeds, ...) and ``train``.
    models
        The deep models to run (default: every deep model of ``config.models``).
    on_step
        Called with ``"<model> <target> <task> <protocol> seed <seed>"`` before each combination.

    Returns
    -------
    metrics
        ``metrics[model][target][task][protocol]`` (see the module docstring).
    predictions
        One row per tested window, combination and seed: model, target, task,
        protocol, seed, fold, subject, trial, offset, y_true, y_pred, expected
        (probability-weighted class index). Regression rows: ``y_true`` the
        rating, ``y_pred`` and ``expected`` the predicted rating.
    """
    models = config.deep_models if models is None else tuple(models)
    check_models(models)
    cfg = config.evaluation
    per_seed: dict[int, dict] = {}
    frames = []
    with Executor(workers=config.train.workers, scheduler=config.train.scheduler) as executor:
        for seed in cfg.seeds:
            metrics = per_seed.setdefault(seed, {})
            for spec in models:
                kind = input_kind(spec.name)
                if kind not in inputs:
                    raise DataError(f"model {spec.name} needs {kind!r} inputs; got {sorted(inputs)}")
                data = inputs[kind]
                for target in cfg.targets:
                    for task in cfg.tasks:
                        ratings = data.meta[target].to_numpy()
                        if task == "regression":
                            n_classes, y = 1, regression_targets(ratings, cfg.rating_range, name=target)
                        else:
                            n_classes, y = N_CLASSES[task], class_labels(ratings, task, cfg.threshold, name=target)
                        head = {"n_outputs": n_classes, "output": output_head(task)}
                        n_params = count_parameters(build_model(spec.name, **head, **spec.hparams)).trainable
                        for protocol in cfg.protocols:
                            if on_step is not None:
                                on_step(f"{spec.name} {target} {task} {protocol} seed {seed}")
                            scores, frame = _run_combination(
                                executor, data, y, n_classes, spec, target, task, protocol, config, seed
                            )
                            scores["parameters"] = n_params
                            metrics.setdefault(spec.name, {}).setdefault(target, {}).setdefault(task, {})[protocol] = scores
                            frames.append(
                                frame.assign(model=spec.name, target=target, task=task, protocol=protocol, seed=seed)
                            )
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return combine_seeds(per_seed), predictions


def _run_combination(
    executor: Executor,
    data: WindowSet,
    y: np.ndarray,
    n_classes: int,
    spec: ModelSpec,
    target: str,
    task: str,
    protocol: str,
    config: RunConfig,
    seed: int,
) -> tuple[dict, pd.DataFrame]:
    meta, cfg = data.meta, config.evaluation
    regression = task == "regression"
    # Folds stratify on classes; regression on the binned ratings.
    strata = rating_bins(meta[target].to_numpy(), cfg.rating_range, name=target) if regression else y
    folds = list(protocol_folds(protocol, meta, strata, cfg, spec.input_windows, seed))
    if not folds:
        raise DataError(f"protocol {protocol} gave no folds")
    # A generator: run serially, only one fold's copy of its rows is alive at a time.
    jobs = (make_fold_job(data, y, n_classes, spec, target, task, protocol, fold, config, seed) for fold in folds)
    outcomes = list(executor.map(run_fold, jobs))
    rows = [fold.test for fold in folds]
    probs = [outcome.probabilities for outcome in outcomes]
    chance = [outcome.chance for outcome in outcomes]
    records = [outcome.record for outcome in outcomes]
    tested = np.concatenate(rows)
    if len(np.unique(tested)) != len(tested):
        raise DataError(f"protocol {protocol}: a window was tested twice")
    proba = np.concatenate(probs)
    subjects = meta["subject"].to_numpy()[tested]
    if regression:
        y_true = meta[target].to_numpy()[tested].astype(float)
        y_pred = expected = ratings_from_targets(proba[:, 0], cfg.rating_range)
        scores = subject_mean_regression_scores(y_true, y_pred, subjects)
        guess = ratings_from_targets(np.concatenate(chance), cfg.rating_range)
        chance_scores = subject_mean_regression_scores(y_true, guess, subjects)
        for name in ("ccc", "rmse", "mae"):
            scores[f"chance_{name}"] = chance_scores[name]
    else:
        y_true, y_pred, expected = y[tested], proba.argmax(axis=1), proba @ np.arange(n_classes)
        labels = list(range(n_classes))
        scores = subject_mean_scores(y_true, proba, subjects, labels)
        chance_scores = subject_mean_scores(y_true, np.eye(n_classes)[np.concatenate(chance)], subjects, labels)
        scores["chance_f1_weighted"] = chance_scores["f1_weighted"]
        scores["chance_balanced_accuracy"] = chance_scores["balanced_accuracy"]
    train_seconds = [r["train_seconds"] for r in records]
    inference_seconds = sum(r["inference_seconds"] for r in records)
    scores["train_seconds_per_fold"] = float(np.mean(train_seconds))
    scores["inference_windows_per_s"] = len(tested) / inference_seconds if inference_seconds > 0 else float("inf")
    scores["folds"] = records
    frame = meta.iloc[tested][["subject", "trial", "offset"]].reset_index(drop=True).assign(
        fold=np.concatenate([[f.name] * len(f.test) for f in folds]),
        y_true=y_true,
        y_pred=y_pred,
        expected=expected,
    )
    return scores, frame
