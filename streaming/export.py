"""Live checkpoints from ``biosig train --export DIR``: one final model per model x target x task.

After the evaluation, every configured model is trained once more per
target and task on all the run's windows (the inputs the folds used,
:func:`graphs.training.deep_inputs.model_inputs`), a seeded
``evaluation.val_fraction`` of whole trials (subject, trial) held out for the
trainer's validation loss, early stopping (``patience``) and best-epoch
restore (:func:`graphs.training.trainer.fit`, seeded by the first of
``evaluation.seeds``). Only deep models are exported (the feature baseline
has no live form).
Each model is written as ``DIR/<model>-<target>-<task>.pt`` in the live
checkpoint format (:mod:`streaming.model_io`): weights, ``hparams``,
``target``, ``task``, ``scale`` (classifiers: the rating of each class) or
``rating_range`` (regression: the model outputs the rating rescaled to
[-1, 1], :func:`~biosig.evaluation.labels.regression_targets`, which the
live pipeline maps back), ``channels`` (model order), ``sfreq`` (of the
training windows), ``window``, ``features`` (the DE bands), ``preprocess``
(the run's filter and reference when the model's ``windows.preprocess`` is set,
else null), ``peripheral`` (models with ECG/EDA nodes: the span
``windows.peripheral_seconds`` and the node layout), a calibrated
``normalization`` ``{"calibrate": true, "max_scale": [...]}``, and the
provenance (``train_config``: the ``train`` section and the model's ``windows``;
``history``, ``export``).

Each task is trained as in the evaluation
(:mod:`graphs.training.experiment`): classes with soft targets and
class-balanced batches, ``regression`` one output on the rescaled rating with
``train.regression_loss`` and batches balanced over the rating bins.

Normalisation. Training z-scores each trial against its own baseline; live,
the statistics of a calibration rest recording stand in
(:mod:`streaming.calibrate`). Raw inputs are also divided by each record's
channel maximum |z|; live, that becomes a fixed factor per channel,
``max_scale``: the harmonic mean over the training records of max |z|
(:func:`record_peak_scale`), so that the live input ``z / max_scale`` has on
average the scale ``mean(1 / peak)`` of the training inputs. DE inputs skip
the maximum: ones. ECG/EDA features are trained minus each trial's baseline
level; live, the calibration measures that level on its rest
(``normalization.peripheral_offset``).

Only what the live pipeline can run is exported, and that is checked before
any training (:func:`check_exportable`): raw-window and DE models (no scalp
maps), with or without ECG/EDA nodes, causal IIR filters
(``preprocess.filter.method: iir``, ``causal: true``), reference channels
among the model's, and the targets valence and arousal (others are skipped
and listed); every task is exported. Live, a stream at another rate is resampled to
``sfreq`` and bad channels are interpolated per window; an ICA of the
training preprocessing is fitted per recording and is not in the checkpoint
(a live session takes a fixed one, ``biosig stream --ica``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.config import (
    FeatureConfig,
    ModelSpec,
    PreprocessConfig,
    RunConfig,
    TrainWindowConfig,
    WindowConfig,
)
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import (
    N_CLASSES,
    class_labels,
    rating_bins,
    regression_targets,
)
from biosig.preprocess.causal import design_filters
from graphs.models import build_model, make_config
from graphs.training.deep_inputs import input_kind, shared_windows, spec_inputs
from graphs.training.trainer import fit, take_rows
from graphs.training.windows_dataset import WindowSet
from streaming.model_io import (
    LIVE_TARGETS,
    LiveSpec,
    live_metadata,
    save_live_checkpoint,
)

#: Rating of each class of the exported classification tasks (five_class: classes 0..4 are SAM 1..5).
CLASS_RATINGS: dict[str, list[float]] = {"binary": [0.0, 1.0], "five_class": [1.0, 2.0, 3.0, 4.0, 5.0]}

#: Model inputs the live pipeline makes.
LIVE_INPUTS: tuple[str, ...] = ("raw", "de")


@dataclass(frozen=True)
class ExportedModel:
    """One written live checkpoint and how its model was trained.

    Attributes
    ----------
    path
        The checkpoint.
    model, target, task
        What it is.
    n_train, n_val
        Training and validation windows.
    best_epoch
        Epoch whose weights were kept (0-based).
    val_loss
        Validation loss of that epoch (one-hot cross-entropy; regression:
        ``train.regression_loss`` on the rescaled ratings).
    """

    path: Path
    model: str
    target: str
    task: str
    n_train: int
    n_val: int
    best_epoch: int
    val_loss: float | None


@dataclass
class ExportResult:
    """What :func:`export_live_models` wrote and what it left out (``"model target task: why"``)."""

    exported: list[ExportedModel] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def check_exportable(config: RunConfig, models: Sequence[ModelSpec], inputs: dict[str, WindowSet]) -> None:
    """Refuse an export of the deep ``models`` (one windows setting, their ``inputs``) the live pipeline could not run.

    Called before any training (module docstring).

    Raises
    ------
    ConfigError
        A model takes inputs the live pipeline does not make (scalp maps),
        has ECG/EDA nodes without ``windows.peripheral_seconds``, the
        filter is not causal IIR, reference channels are not model channels,
        or no target can be exported.
    DataError
        A filter edge at or above the Nyquist frequency of the windows.
    """
    windows = shared_windows(models)
    targets = config.evaluation.targets
    for spec in models:
        kind = input_kind(spec.name)
        if kind not in LIVE_INPUTS:
            raise ConfigError(
                f"models: {spec.name} takes {kind} inputs, which the live pipeline does not make "
                f"(it feeds {list(LIVE_INPUTS)}); remove it from the run to export"
            )
        if _nodes(spec) and windows.peripheral_seconds is None:
            raise ConfigError(f"models: {spec.name} has peripheral nodes; set its windows.peripheral_seconds to export it")
    if not any(t in LIVE_TARGETS for t in targets):
        raise ConfigError(
            f"evaluation.targets {list(targets)}: the export writes models of {list(LIVE_TARGETS)}; the run has none"
        )
    live = live_spec(next(iter(inputs.values())), windows, config.preprocess, None)
    design_filters(live.filter, live.sfreq)
    if isinstance(live.reference, tuple):
        missing = [ch for ch in live.reference if ch not in live.channels]
        if missing:
            raise ConfigError(
                f"preprocess.reference: channels {missing} are not among the model's channels "
                f"{list(live.channels)}, so the live pipeline cannot re-reference"
            )


def live_spec(
    data: WindowSet,
    windows: TrainWindowConfig,
    preprocess: PreprocessConfig | None,
    max_scale: np.ndarray | None,
    peripheral: tuple[str, ...] = (),
) -> LiveSpec:
    """The live input definition of models trained on ``data``, normalisation to be calibrated.

    ``max_scale`` ``(n_channels,)`` is the fixed factor of raw inputs (None:
    ones); ``peripheral`` the ECG/EDA nodes of the model (``("ecg", "eda")``),
    whose features span ``windows.peripheral_seconds`` (the models' input windows).
    """
    used = preprocess if windows.preprocess else None
    return LiveSpec(
        channels=tuple(data.ch_names),
        sfreq=float(data.sfreq),
        window=WindowConfig(length=data.settings.length, hop=data.settings.hop),
        filter=None if used is None else used.filter,
        reference=None if used is None else used.reference,
        features=FeatureConfig(bands=dict(data.settings.bands)),
        calibrate=True,
        max_scale=np.ones(len(data.ch_names)) if max_scale is None else np.asarray(max_scale, dtype=float),
        peripheral_seconds=windows.peripheral_seconds if peripheral else None,
        peripheral_nodes=peripheral,
    )


def _nodes(spec: ModelSpec) -> tuple[str, ...]:
    """The peripheral node kinds of a configured model, in column order (empty without)."""
    return tuple(kind for kind, _ in getattr(make_config(spec.name, **spec.hparams), "peripheral", ()) or ())


def record_peak_scale(record_peaks: np.ndarray) -> np.ndarray:
    """Harmonic mean over the records of each channel's max |z|, ``(n_channels,)`` (unitless).

    ``record_peaks`` ``(n_records, n_channels)`` are the divisors of the raw
    training inputs (:attr:`~graphs.training.windows_dataset.WindowSet.record_peaks`).
    """
    return len(record_peaks) / (1.0 / record_peaks).sum(axis=0)


def final_split(meta: pd.DataFrame, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(train, val)`` of the final fit: a seeded ``fraction`` of whole trials held out.

    Parameters
    ----------
    meta
        The window table (``subject``, ``trial`` per row).
    fraction
        Share of the (subject, trial) pairs held out, at least one, never all.
    seed
        Seed of the draw.

    Raises
    ------
    DataError
        Fewer than two trials in the run.
    """
    trial = meta.groupby(["subject", "trial"], sort=True).ngroup().to_numpy()
    n_trials = int(trial.max()) + 1 if len(trial) else 0
    if n_trials < 2:
        raise DataError(f"the export holds out whole trials for validation; the run has {n_trials} trial(s)")
    n_val = min(n_trials - 1, max(1, int(round(fraction * n_trials))))
    held = np.random.default_rng(seed).choice(n_trials, size=n_val, replace=False)
    is_val = np.isin(trial, held)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def export_live_models(
    inputs: dict[str, WindowSet],
    config: RunConfig,
    models: Sequence[ModelSpec],
    out_dir: str | Path,
    on_step: Callable[[str], None] | None = None,
) -> ExportResult:
    """Train the final models and write their live checkpoints (module docstring).

    Parameters
    ----------
    inputs
        The inputs of ``models`` (:func:`~graphs.training.deep_inputs.model_inputs`).
    config
        The run: ``evaluation`` (targets, tasks, labels, ``val_fraction``,
        the first seed), ``train`` and ``preprocess`` (its filter and
        reference go into the checkpoints when the models' ``windows.preprocess`` is set).
    models
        Deep models sharing one windows setting.
    out_dir
        Folder of the checkpoints (created).
    on_step
        Called with ``"<model> <target> <task>"`` before each training.
    """
    check_exportable(config, models, inputs)
    cfg, windows = config.evaluation, shared_windows(models)
    train = config.train.model_copy(update={"seed": cfg.seeds[0]})
    out = Path(out_dir)
    first = next(iter(inputs.values()))
    train_rows, val_rows = final_split(first.meta, cfg.val_fraction, train.seed)
    result = ExportResult()
    for spec in models:
        kind = input_kind(spec.name)
        data = inputs[kind]
        max_scale = None if data.record_peaks is None else record_peak_scale(data.record_peaks)
        live = live_spec(data, windows, config.preprocess, max_scale, _nodes(spec))
        x = spec_inputs(data, spec)
        x_train, x_val = take_rows(x, train_rows), take_rows(x, val_rows)
        for target in cfg.targets:
            for task in cfg.tasks:
                name = f"{spec.name} {target} {task}"
                if target not in LIVE_TARGETS:
                    result.skipped.append(f"{name}: target not predicted live")
                    continue
                if on_step is not None:
                    on_step(name)
                ratings = data.meta[target].to_numpy()
                if task == "regression":
                    n_outputs, output = 1, "regression"
                    y = regression_targets(ratings, cfg.rating_range, name=target)
                    strata = rating_bins(ratings, cfg.rating_range, name=target)[train_rows]
                    head = {"rating_range": cfg.rating_range}
                else:
                    n_outputs, output, strata = N_CLASSES[task], "classes", None
                    y = class_labels(ratings, task, cfg.threshold, name=target)
                    head = {"scale": CLASS_RATINGS[task]}
                model = build_model(spec.name, seed=train.seed, n_outputs=n_outputs, output=output, **spec.hparams)
                fitted = fit(
                    model, x_train, y[train_rows], x_val, y[val_rows], n_outputs, train,
                    seed=train.seed, regression=output == "regression", strata=strata,
                )  # fmt: skip
                best = fitted.history[fitted.best_epoch]
                meta = live_metadata(spec.name, model.config.model_dump(mode="json"), live, target=target, **head)
                val_trials = data.meta.iloc[val_rows][["subject", "trial"]].drop_duplicates()
                meta.update(
                    task=task,
                    n_classes=n_outputs,
                    train_config={**train.model_dump(mode="json"), "windows": windows.model_dump(mode="json")},
                    history=fitted.history,
                    export={
                        "n_train": len(train_rows),
                        "n_val": len(val_rows),
                        "val_trials": [[str(s), int(t)] for s, t in val_trials.itertuples(index=False)],
                        "best_epoch": fitted.best_epoch,
                    },
                )
                path = save_live_checkpoint(out / f"{spec.name}-{target}-{task}.pt", model, meta)
                exported = ExportedModel(
                    path, spec.name, target, task, len(train_rows), len(val_rows), fitted.best_epoch, best["val_loss"]
                )
                result.exported.append(exported)
    return result
