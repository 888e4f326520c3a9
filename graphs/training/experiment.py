"""Deep-model experiments: every model x target x task x protocol of a :class:`~biosig.config.TrainConfig`.

:func:`model_inputs` builds, once, the inputs every configured model needs
(:mod:`graphs.training.windows_dataset`; rows aligned, so all models share
the folds); :func:`run_experiment` trains one model per fold
(:mod:`graphs.training.trainer`) and scores the out-of-fold predictions.
A model with peripheral nodes (hyper-parameter ``peripheral``) gets the pair
``(x, peripheral features)`` of the same rows (:func:`spec_inputs`).

Protocols (:mod:`biosig.evaluation.protocols`):

* ``histn_blocks``: per subject, 10 within-trial blocks (HiSTN's published
  subject-dependent split; the gap before held-out blocks is one window);
* ``leave_trials_out``: per subject, ``n_folds`` folds of whole trials;
* ``loso``: one fold per subject; with ``label_correction`` the training
  labels become each clip's most frequent label among the training subjects
  (validation keeps the raw labels); with ``finetune.seconds`` the model is
  then fine-tuned on the test subject's first seconds of every trial
  (parameters under ``finetune.freeze`` fixed, balanced batches standing in
  for the authors' max/count class weights) and tested on the rest.

Folds run through :class:`biosig.executor.Executor` (serial, ``workers``
local processes, or the Dask cluster at ``scheduler``), the executor of the
cohort preprocessing. The result is nested like the main job's
``metrics.json``, one level deeper: ``metrics[model][target][task][protocol]``
holds the subject-averaged scores (:func:`~graphs.training.ordinal_metrics.subject_mean_scores`),
``chance_f1_weighted`` and ``chance_balanced_accuracy`` (a stratified random
guess fitted on each fold's training labels), ``parameters``, per-fold
records (sizes, epochs, training seconds, inference windows/s), the mean
training seconds per fold and the inference throughput.

Task ``regression`` (one output, targets and binned ratings from
:mod:`biosig.evaluation.labels`, see :class:`~biosig.config.TrainConfig`) is
scored on the rating scale per subject and averaged
(:func:`~biosig.evaluation.regression_metrics.subject_mean_regression_scores`:
``ccc``, ``pearson_r``, ``rmse``, ``mae``); its chance is the training mean
rating of each fold (scikit-learn's ``DummyRegressor``): ``chance_ccc`` (near
0: the guess is constant within a fold, so only the folds' different means
correlate), ``chance_rmse``, ``chance_mae``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.dummy import DummyClassifier, DummyRegressor

from biosig.config import ModelSpec, PreprocessConfig, TrainConfig
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import (
    N_CLASSES,
    class_labels,
    corrected_labels,
    rating_bins,
    ratings_from_targets,
    regression_targets,
)
from biosig.evaluation.regression_metrics import subject_mean_regression_scores
from biosig.executor import Executor
from biosig.session import Session
from graphs.models import MODELS, EEGModel, build_model, count_parameters, make_config
from graphs.training.ordinal_metrics import subject_mean_scores
from graphs.training.splits import Fold, histn_blocks, leave_trials_out, loso_folds
from graphs.training.trainer import (
    Inputs,
    fit,
    load_checkpoint,
    n_rows,
    predict_proba,
    predict_values,
    save_checkpoint,
    take_rows,
)
from graphs.training.windows_dataset import INPUT_DIMS, PERIPHERAL_NODES, WindowSet, WindowSettings, cohort_windows


def input_kind(model_name: str) -> str:
    """Which input (``raw``, ``de``, ``topomap``) a registered model takes, from its ``input_dims``."""
    if model_name not in MODELS:
        raise ConfigError(f"train.models: unknown model {model_name!r}; registered: {', '.join(sorted(MODELS))}")
    dims = MODELS[model_name].input_dims
    for kind, kind_dims in INPUT_DIMS.items():
        if kind_dims == dims:
            return kind
    raise ConfigError(f"model {model_name!r} takes input {dims}, which no input builder makes")


def model_inputs(
    sessions: Iterable[Session], cfg: TrainConfig, preprocess: PreprocessConfig | None = None
) -> dict[str, WindowSet]:
    """Inputs of every kind the configured models need, rows aligned.

    The channel order is that of the models that name one (HiSTN's
    hierarchy), else the recording's. ``preprocess`` is applied when
    ``cfg.windows.preprocess`` is set. Models with peripheral nodes need
    ``cfg.windows.peripheral_seconds`` and the nodes of
    :data:`~graphs.training.windows_dataset.PERIPHERAL_NODES`.
    """
    _check_models(cfg)
    orders = set()
    w = cfg.windows
    for spec in cfg.models:
        probe = build_model(spec.name, **spec.hparams)
        if hasattr(probe, "channels"):
            orders.add(tuple(probe.channels))
        nodes = getattr(probe.config, "peripheral", ())
        if nodes and nodes != PERIPHERAL_NODES:
            raise ConfigError(
                f"train.models: {spec.name} has peripheral nodes {dict(nodes)}; the peripheral inputs are {dict(PERIPHERAL_NODES)}"
            )
        if nodes and w.peripheral_seconds is None:
            raise ConfigError(f"train.models: {spec.name} has peripheral nodes; set train.windows.peripheral_seconds")
    if len(orders) > 1:
        raise ConfigError(f"train.models expect different channel orders: {sorted(orders)}")
    if w.preprocess and preprocess is None:
        raise ConfigError("train.windows.preprocess is set but no preprocess section was given")
    settings = WindowSettings(
        length=w.length,
        hop=w.hop,
        record_seconds=w.record_seconds,
        baseline_seconds=w.baseline_seconds,
        max_normalize=w.max_normalize,
        channels=orders.pop() if orders else None,
        preprocess=preprocess if w.preprocess else None,
        peripheral_seconds=w.peripheral_seconds,
    )
    return cohort_windows(sessions, sorted({input_kind(s.name) for s in cfg.models}), settings)


@dataclass
class FoldJob:
    """Everything one fold's training needs (picklable, for worker processes).

    ``output="regression"``: ``n_classes`` is 1, the ``y`` are float targets
    and ``strata_*`` the rating bins balanced batches draw over.
    """

    model: str
    hparams: dict[str, Any]
    n_classes: int
    cfg: TrainConfig
    fold: str
    x_train: Inputs
    y_train: np.ndarray
    x_val: Inputs
    y_val: np.ndarray
    x_test: Inputs
    x_finetune: Inputs | None = None
    y_finetune: np.ndarray | None = None
    checkpoint: Path | None = None
    checkpoint_meta: dict[str, Any] = field(default_factory=dict)
    output: str = "classes"
    strata_train: np.ndarray | None = None
    strata_finetune: np.ndarray | None = None


@dataclass
class FoldOutcome:
    """Test probabilities of a fold, a chance guess for the same rows, and how the fold was trained.

    ``chance`` ``(n_test,)`` is a stratified random guess fitted on the
    fold's training labels (scikit-learn's ``DummyClassifier``, seeded).
    Regression: ``probabilities`` ``(n_test, 1)`` holds the predicted targets
    and ``chance`` the training targets' mean (``DummyRegressor``).
    """

    probabilities: np.ndarray
    chance: np.ndarray
    record: dict[str, Any]


def run_fold(job: FoldJob) -> FoldOutcome:
    """Build, train (and fine-tune), then predict one fold; seeded by ``job.cfg.seed``."""
    cfg = job.cfg
    threads = torch.get_num_threads()
    if cfg.threads is not None:
        # Prediction too: on a busy 2-core machine one thread is several times faster than two.
        torch.set_num_threads(cfg.threads)
    try:
        regression = job.output == "regression"
        model = build_model(job.model, seed=cfg.seed, n_outputs=job.n_classes, output=job.output, **job.hparams)
        result = fit(
            model, job.x_train, job.y_train, job.x_val, job.y_val, job.n_classes, cfg,
            regression=regression, strata=job.strata_train,
        )  # fmt: skip
        record: dict[str, Any] = {
            "name": job.fold,
            "n_train": n_rows(job.x_train),
            "n_val": n_rows(job.x_val),
            "n_test": n_rows(job.x_test),
            "epochs": result.epochs_run,
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "device": result.device,
        }
        if job.x_finetune is not None and n_rows(job.x_finetune):
            names = [n for n, _ in model.named_parameters()]
            frozen = tuple(p for p in cfg.finetune.freeze if any(n.startswith(p) for n in names))
            ft = cfg.finetune
            tuned = fit(
                model, job.x_finetune, job.y_finetune, None, None, job.n_classes, cfg,
                epochs=ft.epochs, lr=ft.lr, lr_steps={}, batch_size=ft.batch_size, freeze=frozen,
                regression=regression, strata=job.strata_finetune,
            )  # fmt: skip
            record.update(n_finetune=n_rows(job.x_finetune), finetune_seconds=tuned.seconds, frozen=list(frozen))
        start = time.perf_counter()
        probabilities = predict_values(model, job.x_test)[:, None] if regression else predict_proba(model, job.x_test)
        elapsed = time.perf_counter() - start
        record["test_windows_per_s"] = n_rows(job.x_test) / elapsed if elapsed > 0 else float("inf")
        record["inference_seconds"] = elapsed
        if job.checkpoint is not None:
            meta = {
                **job.checkpoint_meta,
                "model": job.model,
                "model_config": model.config.model_dump(mode="json"),
                "fold": job.fold,
                "history": result.history,
                "train_config": cfg.model_dump(mode="json"),
            }
            save_checkpoint(job.checkpoint, model, meta)
            record["checkpoint"] = str(job.checkpoint)
        dummy = DummyRegressor(strategy="mean") if regression else DummyClassifier(strategy="stratified", random_state=cfg.seed)
        chance = dummy.fit(np.zeros((len(job.y_train), 1)), job.y_train).predict(np.zeros((n_rows(job.x_test), 1)))
        return FoldOutcome(probabilities, chance, record)
    finally:
        torch.set_num_threads(threads)


def load_model(path: str | Path) -> tuple[EEGModel, dict[str, Any]]:
    """Rebuild a model saved by :func:`run_fold` (weights read with ``weights_only=True``) and its metadata."""
    state, meta = load_checkpoint(path)
    try:
        model = build_model(meta["model"], **meta["model_config"])
    except KeyError as exc:
        raise DataError(f"checkpoint {path}: metadata lacks {exc}") from None
    model.load_state_dict(state)
    model.eval()
    return model, meta


def protocol_folds(protocol: str, meta: pd.DataFrame, y: np.ndarray, cfg: TrainConfig) -> Iterator[Fold]:
    """The folds of ``protocol`` over the window table ``meta`` (labels ``y``), limited by ``max_folds``."""
    subjects, trials = meta["subject"].to_numpy(), meta["trial"].to_numpy()
    offsets, w = meta["offset"].to_numpy(), cfg.windows
    if protocol == "histn_blocks":
        folds = histn_blocks(subjects, trials, offsets, w.length, w.record_seconds, gap=w.length)
    elif protocol == "leave_trials_out":
        folds = leave_trials_out(subjects, trials, y, cfg.n_folds, cfg.seed)
    elif protocol == "loso":
        folds = loso_folds(subjects, trials, offsets, w.length, cfg.val_fraction, cfg.finetune.seconds, cfg.seed)
    else:
        raise ConfigError(f"train.protocols: unknown protocol {protocol!r}")
    if cfg.max_folds is None:
        yield from folds
        return
    seen: dict[str, int] = {}
    for fold in folds:
        key = fold.name.split("/")[0] if protocol != "loso" else "loso"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= cfg.max_folds:
            yield fold


def run_experiment(
    inputs: dict[str, WindowSet],
    cfg: TrainConfig,
    on_step: Callable[[str], None] | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Train and score every configured model x target x task x protocol.

    Parameters
    ----------
    inputs
        From :func:`model_inputs` (or :func:`~graphs.training.windows_dataset.cohort_windows`).
    cfg
        The ``train`` section.
    on_step
        Called with ``"<model> <target> <task> <protocol>"`` before each combination.

    Returns
    -------
    metrics
        ``metrics[model][target][task][protocol]`` (see the module docstring).
    predictions
        One row per tested window and combination: model, target, task,
        protocol, fold, subject, trial, offset, y_true, y_pred, expected
        (probability-weighted class index). Regression rows: ``y_true`` the
        rating, ``y_pred`` and ``expected`` the predicted rating.
    """
    _check_models(cfg)
    metrics: dict = {}
    frames = []
    with Executor(workers=cfg.workers, scheduler=cfg.scheduler) as executor:
        for spec in cfg.models:
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
                    head = {"n_outputs": n_classes, "output": _output(task)}
                    n_params = count_parameters(build_model(spec.name, **head, **spec.hparams)).trainable
                    for protocol in cfg.protocols:
                        if on_step is not None:
                            on_step(f"{spec.name} {target} {task} {protocol}")
                        scores, frame = _run_combination(executor, data, y, n_classes, spec, target, task, protocol, cfg)
                        scores["parameters"] = n_params
                        metrics.setdefault(spec.name, {}).setdefault(target, {}).setdefault(task, {})[protocol] = scores
                        frames.append(frame.assign(model=spec.name, target=target, task=task, protocol=protocol))
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return metrics, predictions


def _run_combination(
    executor: Executor,
    data: WindowSet,
    y: np.ndarray,
    n_classes: int,
    spec: ModelSpec,
    target: str,
    task: str,
    protocol: str,
    cfg: TrainConfig,
) -> tuple[dict, pd.DataFrame]:
    meta = data.meta
    regression = task == "regression"
    # Folds stratify on classes; regression on the binned ratings.
    strata = rating_bins(meta[target].to_numpy(), cfg.rating_range, name=target) if regression else y
    folds = list(protocol_folds(protocol, meta, strata, cfg))
    if not folds:
        raise DataError(f"protocol {protocol} gave no folds")
    # A generator: run serially, only one fold's copy of its rows is alive at a time.
    jobs = (make_fold_job(data, y, n_classes, spec, target, task, protocol, fold, cfg) for fold in folds)
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


def spec_inputs(data: WindowSet, spec: ModelSpec) -> Inputs:
    """A model's inputs: ``data.x``, or ``(data.x, data.peripheral)`` for a model with peripheral nodes.

    Raises
    ------
    DataError
        The model has peripheral nodes but ``data`` carries no peripheral features.
    """
    if not getattr(make_config(spec.name, **spec.hparams), "peripheral", ()):
        return data.x
    if data.peripheral is None:
        raise DataError(
            f"model {spec.name} has peripheral nodes but the inputs have no peripheral features; "
            "set train.windows.peripheral_seconds"
        )
    return data.x, data.peripheral


def make_fold_job(
    data: WindowSet,
    y: np.ndarray,
    n_classes: int,
    spec: ModelSpec,
    target: str,
    task: str,
    protocol: str,
    fold: Fold,
    cfg: TrainConfig,
) -> FoldJob:
    """The training job of one fold: its rows' inputs and labels (LOSO labels corrected when configured).

    Parameters
    ----------
    data
        All windows; ``y`` ``(n_windows,)`` their class indices (regression:
        targets; the label correction then takes each clip's most frequent
        rating bin, HiSTN's mode of the 1..5 ratings, back to a target).
    spec, target, task, protocol
        What is trained, for the job and its checkpoint's name and metadata.
    fold
        Row indices of the fold.
    cfg
        The ``train`` section.
    """
    y_train = y[fold.train]
    strata = rating_bins(data.meta[target].to_numpy(), cfg.rating_range, name=target) if task == "regression" else None
    strata_train = None if strata is None else strata[fold.train]
    if protocol == "loso" and cfg.label_correction:
        # The clip's mode over every training subject's trial, validation trials included.
        pool = np.concatenate([fold.train, fold.val])
        meta = data.meta
        labels, n_labels = (y, n_classes) if strata is None else (strata, int(strata.max()) + 1)
        corrected = corrected_labels(meta["subject"].to_numpy()[pool], meta["trial"].to_numpy()[pool], labels[pool], n_labels)
        if strata is None:
            y_train = corrected[: len(fold.train)]
        else:
            strata_train = corrected[: len(fold.train)]
            bin_ratings = np.minimum(cfg.rating_range[0] + strata_train, cfg.rating_range[1])
            y_train = regression_targets(bin_ratings, cfg.rating_range, name=target)
    checkpoint = None
    if cfg.checkpoint_dir is not None:
        checkpoint = Path(cfg.checkpoint_dir) / spec.name / f"{target}-{task}-{protocol}" / f"{fold.name.replace('/', '-')}.pt"
    finetune = len(fold.finetune) > 0
    inputs = spec_inputs(data, spec)
    return FoldJob(
        model=spec.name,
        hparams=dict(spec.hparams),
        n_classes=n_classes,
        cfg=cfg,
        fold=fold.name,
        x_train=take_rows(inputs, fold.train),
        y_train=y_train,
        x_val=take_rows(inputs, fold.val),
        y_val=y[fold.val],
        x_test=take_rows(inputs, fold.test),
        x_finetune=take_rows(inputs, fold.finetune) if finetune else None,
        y_finetune=y[fold.finetune] if finetune else None,
        checkpoint=checkpoint,
        checkpoint_meta={"target": target, "task": task, "protocol": protocol, "n_classes": n_classes}
        | ({"rating_range": list(cfg.rating_range)} if strata is not None else {}),
        output=_output(task),
        strata_train=strata_train,
        strata_finetune=strata[fold.finetune] if finetune and strata is not None else None,
    )


def _output(task: str) -> str:
    """The model head (:class:`graphs.models.ModelConfig` ``output``) of a task."""
    return "regression" if task == "regression" else "classes"


def _check_models(cfg: TrainConfig) -> None:
    names = [s.name for s in cfg.models]
    if not names:
        raise ConfigError("train.models is empty")
    if len(set(names)) != len(names):
        raise ConfigError(f"train.models lists a model twice: {names}; results are keyed by model name")
    for name in names:
        input_kind(name)
