"""One fold of a deep model: its job (rows, labels, settings), its training and prediction, its checkpoint.

:func:`protocol_folds` cuts a protocol's folds (:mod:`graphs.training.splits`),
:func:`make_fold_job` gathers one fold's rows and labels (LOSO labels
corrected when configured), :func:`run_fold` trains (and fine-tunes) the model
(:mod:`graphs.training.trainer`) and predicts the test rows; jobs are
picklable, so folds may run in worker processes. :func:`load_model` rebuilds a
model from a fold's checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.dummy import DummyClassifier, DummyRegressor

from biosig.config import (
    EvaluationConfig,
    FinetuneConfig,
    ModelSpec,
    RunConfig,
    TrainConfig,
    TrainWindowConfig,
)
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import corrected_labels, rating_bins, regression_targets
from biosig.evaluation.targets import is_condition
from biosig.evaluation.trial_folds import trial_fold_splits
from graphs.models import EEGModel, build_model
from graphs.training.crops import CropSampler
from graphs.training.deep_inputs import model_hparams, spec_inputs
from graphs.training.splits import Fold, histn_blocks, loso_folds, with_validation_trials
from graphs.training.trainer import (
    BestTracker,
    Inputs,
    fit,
    load_checkpoint,
    n_rows,
    predict_proba,
    predict_values,
    save_checkpoint,
    take_rows,
)
from graphs.training.windows_dataset import WindowSet


@dataclass
class FoldJob:
    """Everything one fold's training needs (picklable, for worker processes).

    ``output="regression"``: ``n_classes`` is 1, the ``y`` are float targets
    and ``strata_*`` the rating bins balanced batches draw over. With
    ``crops`` (:mod:`graphs.training.recipe`) training batches are its random
    crops, ``x_train`` has no rows and ``y_train`` (the grid windows' labels)
    only fits the chance guess; ``best`` is a checkpoint shared with other folds.
    """

    model: str
    hparams: dict[str, Any]
    n_classes: int
    cfg: TrainConfig
    fold: str
    finetune: FinetuneConfig
    windows: TrainWindowConfig
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
    crops: CropSampler | None = None
    best: BestTracker | None = None


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


def run_fold(job: FoldJob, on_epoch: Callable[[int, float | None], None] | None = None) -> FoldOutcome:
    """Build, train (and fine-tune), then predict one fold; seeded by ``job.cfg.seed`` (the evaluation seed).

    ``on_epoch(epoch, val_loss)`` is called after each training epoch (progress display; not for worker processes).
    """
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
            seed=cfg.seed, regression=regression, strata=job.strata_train, best=job.best, crops=job.crops,
            on_epoch=on_epoch,
        )  # fmt: skip
        record: dict[str, Any] = {
            "name": job.fold,
            # With crops: the (record, start) pairs training crops are drawn from.
            "n_train": n_rows(job.x_train) if job.crops is None else int(job.crops.n_starts.sum()),
            "n_val": n_rows(job.x_val),
            "n_test": n_rows(job.x_test),
            "epochs": result.epochs_run,
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "device": result.device,
        }
        if job.crops is not None:
            record.update(sampling="crops", steps_per_epoch=result.steps_per_epoch)
        if job.best is not None:
            record["restored_earlier_fit"] = result.restored_earlier_fit
        if job.x_finetune is not None and n_rows(job.x_finetune):
            names = [n for n, _ in model.named_parameters()]
            frozen = tuple(p for p in job.finetune.freeze if any(n.startswith(p) for n in names))
            ft = job.finetune
            tuned = fit(
                model, job.x_finetune, job.y_finetune, None, None, job.n_classes, cfg,
                epochs=ft.epochs, lr=ft.lr, lr_steps={}, batch_size=ft.batch_size, freeze=frozen, seed=cfg.seed,
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
                # The model's input windows beside the train section: live loading reads train_config.windows.
                "train_config": {**cfg.model_dump(mode="json"), "windows": job.windows.model_dump(mode="json")},
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


def protocol_folds(
    protocol: str, meta: pd.DataFrame, y: np.ndarray, cfg: EvaluationConfig, windows: TrainWindowConfig, seed: int
) -> Iterator[Fold]:
    """The folds of ``protocol`` over the window table ``meta`` (labels ``y``), limited by ``max_folds``.

    ``within_subject`` holds whole trials out: the trial-level folds every model of a run shares
    (:func:`shared_trial_folds`); ``windows`` are the models' input windows (block and
    fine-tuning spans are in seconds).
    """
    subjects, trials = meta["subject"].to_numpy(), meta["trial"].to_numpy()
    offsets, w = meta["offset"].to_numpy(), windows
    if protocol == "histn_blocks":
        folds = histn_blocks(subjects, trials, offsets, w.length, w.record_seconds, gap=w.length)
    elif protocol == "within_subject":
        folds = shared_trial_folds(subjects, trials, y, cfg.n_folds, seed)
    elif protocol == "loso":
        folds = loso_folds(subjects, trials, offsets, w.length, cfg.val_fraction, cfg.finetune.seconds, seed)
    else:
        raise ConfigError(f"evaluation.protocols: unknown protocol {protocol!r}")
    if cfg.max_folds is None:
        yield from folds
        return
    seen: dict[str, int] = {}
    for fold in folds:
        key = fold.name.split("/")[0] if protocol != "loso" else "loso"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= cfg.max_folds:
            yield fold


def shared_trial_folds(
    subjects: np.ndarray, trials: np.ndarray, labels: np.ndarray, n_folds: int, seed: int
) -> Iterator[Fold]:
    """``within_subject`` folds with whole validation trials, the test trials shared with the feature baseline.

    The test trials are those of :func:`~biosig.evaluation.trial_folds.trial_fold_splits`
    (assigned per trial, so the feature baseline holds out the same ones); the
    validation trials are drawn from the training trials as
    :func:`~graphs.training.splits.leave_trials_out` draws them (one fold of a
    label-stratified ``n_folds``-fold split of the training trials, with ``seed``).
    """
    labels, trials = np.asarray(labels), np.asarray(trials)
    yield from with_validation_trials(trial_fold_splits(subjects, trials, labels, n_folds, seed), trials, labels, n_folds, seed)


def make_fold_job(
    data: WindowSet,
    y: np.ndarray,
    n_classes: int,
    spec: ModelSpec,
    target: str,
    task: str,
    protocol: str,
    fold: Fold,
    config: RunConfig,
    seed: int,
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
    config
        The run: ``evaluation`` (rating range, label correction, fine-tuning) and ``train``.
    seed
        The evaluation seed the fold trains with.
    """
    cfg = config.evaluation
    y_train = y[fold.train]
    strata = rating_bins(data.meta[target].to_numpy(), cfg.rating_range, name=target) if task == "regression" else None
    strata_train = None if strata is None else strata[fold.train]
    # Label correction takes each clip's mode over subjects: ratings of shared stimuli, not conditions.
    if protocol == "loso" and cfg.label_correction and not is_condition(target):
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
    if config.train.checkpoint_dir is not None:
        checkpoint = Path(config.train.checkpoint_dir) / spec.name / f"{target}-{task}-{protocol}" / f"{fold.name.replace('/', '-')}.pt"
    finetune = len(fold.finetune) > 0
    inputs = spec_inputs(data, spec)
    return FoldJob(
        model=spec.name,
        hparams=model_hparams(spec, data),
        n_classes=n_classes,
        cfg=config.train.model_copy(update={"seed": seed}),
        fold=fold.name,
        finetune=cfg.finetune,
        windows=spec.input_windows,
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
        output=output_head(task),
        strata_train=strata_train,
        strata_finetune=strata[fold.finetune] if finetune and strata is not None else None,
    )


def output_head(task: str) -> str:
    """The model head (:class:`graphs.models.ModelConfig` ``output``) of a task."""
    return "regression" if task == "regression" else "classes"
