"""The model sections of a run: ``models``, ``evaluation`` and ``train``.

Part of :mod:`biosig.config`. ``models`` lists what is evaluated: the feature
baseline (``logreg``, standardised logistic regression on the window features,
:mod:`biosig.evaluation.baseline`) and deep models of the zoo
(:func:`graphs.models.build_model` names: ``histn``, ``dgcnn``, ``eegnet``, ...),
each deep model with its input windows. ``evaluation`` says on what and how
every model is scored (one protocol vocabulary for all models), ``train`` how
the deep models are optimised.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from biosig.config.data import MIN_HOP_SECONDS, MIN_WINDOW_SECONDS, StrictSection, check_window_schedule

#: A target: a rating (valence, arousal, dominance or any named numeric trial column) or ``condition``,
#: the categorical label of each trial (binary with two classes, ``multiclass`` with more).
Target = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
#: ``regression`` is run by the deep models only; the feature baseline skips it with a note.
Task = Literal["binary", "five_class", "regression"]
Protocol = Literal["within_subject", "histn_blocks", "loso"]

#: Old protocol names, still accepted (with a :class:`FutureWarning`) as these.
PROTOCOL_ALIASES: dict[str, str] = {"subject_dependent_kfold": "within_subject", "leave_trials_out": "within_subject"}

#: Models that run on the window features (``features`` section), not on deep-model windows.
FEATURE_MODELS: tuple[str, ...] = ("logreg",)
#: A model from elsewhere, ``package.module:Class``: resolved (imported) by :mod:`graphs.models.external`.
EXTERNAL_MODEL_NAME = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
#: The models of a run that names none: the feature baseline and two graph models on the windows.
DEFAULT_MODEL_NAMES: tuple[str, ...] = ("logreg", "histn", "dgcnn")


class TrainWindowConfig(StrictSection):
    """A deep model's inputs (:mod:`graphs.training.windows_dataset`); defaults are HiSTN's.

    The last ``record_seconds`` of each stimulus, z-scored per channel with
    the middle ``baseline_seconds`` of the trial's baseline, cut into windows
    of ``length`` every ``hop`` seconds; raw windows are also divided by each
    record's channel maximum when ``max_normalize``. ``preprocess: true``
    first applies the run's ``preprocess`` section (the authors filter nothing).
    With ``peripheral_seconds`` set, each window also gets ECG and EDA features
    of the ``peripheral_seconds`` ending with it (causal), minus the trial's
    baseline mean (needed by models with ``peripheral`` nodes; off by default).
    ``hop`` must not exceed ``length``, and a record gives at most
    :data:`~biosig.config.data.MAX_WINDOWS_PER_TRIAL` windows.
    """

    length: float = Field(1.0, ge=MIN_WINDOW_SECONDS, description="Window length, s (>= 0.01).")
    hop: float = Field(1.0, ge=MIN_HOP_SECONDS, description="Window hop, s (>= 0.001, <= length).")
    record_seconds: float = Field(60.0, gt=0)
    baseline_seconds: float = Field(10.0, gt=0)
    max_normalize: bool = True
    preprocess: bool = False
    peripheral_seconds: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _schedule_bounded(self) -> TrainWindowConfig:
        check_window_schedule(self.length, self.hop, self.record_seconds, f"the {self.record_seconds} s record")
        return self


class ModelSpec(StrictSection):
    """One model to evaluate and its hyper-parameters.

    ``logreg`` is the feature baseline; its only hyper-parameter is ``C``
    (inverse L2 strength, default 0.1) and it takes no ``windows`` (it reads
    the run's feature windows). Any other name is a deep model of the zoo
    (:func:`graphs.models.build_model`); its ``windows`` default to
    :class:`TrainWindowConfig`'s. ``n_outputs`` and ``output`` are set from the
    task (2 or 5 classes, or one regression value) and must not be given.
    A name ``"package.module:Class"`` is a model from elsewhere (a
    braindecode-style ``torch.nn.Module`` taking ``n_chans``, ``n_outputs``,
    ``n_times``, ``sfreq``, filled from the data, and ``hparams``; see
    :mod:`graphs.models.external`): naming it imports and runs that module,
    so configs are trusted input. Only its syntax is checked here.
    ``tasks``, ``protocols`` and ``permutations`` override ``evaluation``'s
    for this model (a budget: e.g. deep models on the binary task only, no
    permutations); :meth:`EvaluationConfig.for_model` applies them.
    """

    name: str = "histn"
    hparams: dict[str, Any] = Field(default_factory=dict)
    windows: TrainWindowConfig | None = None
    tasks: tuple[Task, ...] | None = None
    protocols: tuple[Protocol, ...] | None = None
    permutations: int | None = Field(None, ge=0)

    @field_validator("name")
    @classmethod
    def _external_name_syntax(cls, name: str) -> str:
        if ":" in name and not EXTERNAL_MODEL_NAME.match(name):
            raise ValueError(f"model name {name!r} is neither a zoo model nor of the form 'package.module:Class'")
        return name

    @field_validator("hparams")
    @classmethod
    def _no_n_outputs(cls, hparams: dict[str, Any]) -> dict[str, Any]:
        if "n_outputs" in hparams:
            raise ValueError("n_outputs follows the task (binary: 2, five_class: 5, regression: 1); remove it")
        if "output" in hparams:
            raise ValueError("output follows the task (regression: 'regression', else 'classes'); remove it")
        return hparams

    @model_validator(mode="after")
    def _feature_model_valid(self) -> ModelSpec:
        if self.name not in FEATURE_MODELS:
            return self
        unknown = sorted(set(self.hparams) - {"C"})
        if unknown:
            raise ValueError(f"{self.name} takes only the hyper-parameter C; got {unknown}")
        if not float(self.hparams.get("C", 0.1)) > 0:
            raise ValueError(f"{self.name}: C must be > 0, got {self.hparams['C']}")
        if self.windows is not None:
            raise ValueError(f"{self.name} runs on the feature windows (top-level windows); remove its windows")
        return self

    @property
    def is_feature_model(self) -> bool:
        """Whether this model runs on the window features (``logreg``) rather than deep-model windows."""
        return self.name in FEATURE_MODELS

    @property
    def input_windows(self) -> TrainWindowConfig:
        """A deep model's input windows: ``windows``, or the defaults when not given."""
        return self.windows if self.windows is not None else TrainWindowConfig()


class FinetuneConfig(StrictSection):
    """HiSTN's subject-independent stage 2: fine-tune on the start of each of the test subject's trials.

    With ``seconds`` set, LOSO folds fine-tune on the test subject's windows
    inside the first ``seconds`` of each record (HiSTN: 10 s, with a 0.25 s
    hop) and test on the rest; parameters whose names start with a
    ``freeze`` prefix stay fixed (HiSTN: its temporal convolution).
    """

    seconds: float | None = Field(None, gt=0)
    epochs: int = Field(400, ge=1)
    lr: float = Field(1e-3, gt=0)
    batch_size: int = Field(100, ge=1)
    freeze: tuple[str, ...] = ("temporal_kernels",)


class EvaluationConfig(StrictSection):
    """What every model is scored on, and how.

    ``binary`` labels are ``rating > threshold``; ``five_class`` uses the
    ratings 1..5 as classes; ``regression`` (deep models only) the rating
    rescaled from ``rating_range`` to [-1, 1]
    (:func:`biosig.evaluation.labels.regression_targets`). Protocols, one
    vocabulary for every model:

    * ``within_subject``: per subject, ``n_folds`` folds of whole trials
      (formerly ``subject_dependent_kfold`` for the feature baseline and
      ``leave_trials_out`` for deep models; both names are still accepted);
    * ``histn_blocks``: HiSTN's within-trial 10-block split (deep models only);
    * ``loso``: leave-one-subject-out, deep models optionally with
      ``label_correction`` and ``finetune``, validating on ``val_fraction``
      of the training trials.

    A protocol or task a model cannot run is skipped with a note. ``max_folds``
    runs only the first folds of each subject (subject-dependent) or the first
    subjects (LOSO) of the deep models, for quick runs. Every model is evaluated
    once per seed of ``seeds`` (folds, initial weights, batches); with several
    seeds ``metrics.json`` holds the mean over seeds and the per-seed scores
    (:func:`biosig.evaluation.seeds.combine_seeds`). ``permutations`` reruns
    every fold loop that many times on labels shuffled between the trials of
    each subject (:func:`biosig.evaluation.chance.permutation_chance`; 0: the
    score is compared with the stratified chance); ``models[].permutations``
    overrides it per model. ``authors_metrics: true`` adds, beside each
    classification entry's scores, the HiSTN code's variants (``authors_top1_accuracy``,
    ``authors_top2_accuracy``, ``authors_f1_weighted``, ``authors_seq2hr``,
    ``authors_tri_p``: top-k over the classes present in each fold's test set,
    Tri-P from a confusion matrix built without ``labels=``, averaged over
    folds then subjects; :mod:`graphs.training.ordinal_metrics`), labelled in
    the report as the authors compute them.
    """

    targets: tuple[Target, ...] = ("valence", "arousal")
    tasks: tuple[Task, ...] = ("binary", "five_class")
    protocols: tuple[Protocol, ...] = ("within_subject", "loso")
    n_folds: int = Field(5, ge=2)
    max_folds: int | None = Field(None, ge=1)
    threshold: float = 3.0
    rating_range: tuple[float, float] = (1.0, 5.0)
    seeds: tuple[int, ...] = Field((0,), min_length=1)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    label_correction: bool = False
    finetune: FinetuneConfig = FinetuneConfig()
    permutations: int = Field(0, ge=0)
    authors_metrics: bool = False

    def for_model(self, spec: ModelSpec) -> EvaluationConfig:
        """This section with ``spec``'s own ``tasks``, ``protocols`` and ``permutations`` where it gives them."""
        own = {k: getattr(spec, k) for k in ("tasks", "protocols", "permutations") if getattr(spec, k) is not None}
        return self.model_copy(update=own)

    @field_validator("protocols", mode="before")
    @classmethod
    def _rename_old_protocols(cls, protocols: Any) -> Any:
        if isinstance(protocols, str) or not isinstance(protocols, (list, tuple)):
            return protocols
        renamed = []
        for name in protocols:
            if name in PROTOCOL_ALIASES:
                new = PROTOCOL_ALIASES[name]
                warnings.warn(
                    f"protocol {name!r} is deprecated; it is now {new!r} (evaluation.protocols)", FutureWarning, stacklevel=2
                )
                name = new
            renamed.append(name)
        return renamed

    @field_validator("protocols", "targets", "tasks", "seeds")
    @classmethod
    def _no_repeats(cls, values: tuple) -> tuple:
        if len(set(values)) != len(values):
            raise ValueError(f"lists an entry twice: {list(values)}")
        return values

    @field_validator("rating_range")
    @classmethod
    def _range_ordered(cls, rating_range: tuple[float, float]) -> tuple[float, float]:
        if not rating_range[0] < rating_range[1]:
            raise ValueError(f"rating_range must be [low, high] with low < high, got {list(rating_range)}")
        return rating_range


class CropCounts(StrictSection):
    """How many class-balanced random crops make each fold's validation and test sets (``train.sampling: crops``).

    HiSTN: 2,000 validation crops of the validation block, 1,000 test crops
    of the test block. ``test: null`` tests on the fold's grid windows instead.
    """

    val: int = Field(2000, ge=1)
    test: int | None = Field(1000, ge=1)


class TrainConfig(StrictSection):
    """How deep models are trained (optimiser and loop); defaults are HiSTN's subject-dependent setting.

    Adam at ``lr``, changed to ``lr_steps[e]`` from epoch ``e`` (0-based),
    class-balanced batches, soft-target cross-entropy with ``label_mode``
    targets (``sigma`` for smoothing), early stopping after ``patience``
    epochs without a lower validation loss (``null``: never), restoring the
    best epoch. Regression trains with ``regression_loss`` (``mse``, or
    ``ccc``: 1 - concordance correlation over the batch), which the validation
    loss uses too; where classification uses classes (balanced batches,
    stratified folds, LOSO label correction) regression uses the ratings
    rounded to the scale's points (:func:`~biosig.evaluation.labels.rating_bins`).
    ``device: cuda`` falls back to the CPU when no GPU is available.
    ``workers > 1`` trains folds in that many local processes; ``scheduler``
    (a Dask address, ``tcp://host:8786``) trains them on that cluster instead
    (:class:`biosig.executor.Executor`).

    ``sampling: crops`` trains on HiSTN's batches of class-balanced random
    crops (a label, a trial with it, then any start sample the fold allows;
    :mod:`graphs.training.crops`) instead of the fixed window grid, ``steps_per_epoch``
    defaulting to the authors' (allowed starts x trials) // batch size; the
    validation and test sets are then ``crops.val`` and ``crops.test``
    balanced crops of the held-out data (:mod:`graphs.training.recipe`; raw
    windows of classification tasks only). ``shared_best: true`` keeps one
    best-validation-loss checkpoint across the folds of each subject (LOSO: of
    all folds), the HiSTN authors' reused Keras ``ModelCheckpoint``
    (:class:`graphs.training.trainer.BestTracker`), to measure its leakage;
    it needs serial folds (``workers: 1``, no ``scheduler``). ``keep: last``
    keeps the last epoch's weights (HiSTN's subject-independent script)
    instead of the best validation epoch's; the validation loss is still recorded.

    ``seed`` is the seed of one training run: the runner sets it to each of
    ``evaluation.seeds`` in turn, so a config file gives ``evaluation.seeds``.
    """

    epochs: int = Field(50, ge=1)
    batch_size: int = Field(256, ge=1)
    steps_per_epoch: int | None = Field(None, ge=1, description="Default: training windows / batch size, rounded up.")
    lr: float = Field(1e-3, gt=0)
    lr_steps: dict[int, float] = Field(default_factory=lambda: {30: 5e-4})
    balanced: bool = True
    label_mode: Literal["smoothing", "onehot"] = "smoothing"
    sigma: float = Field(0.5, gt=0)
    patience: int | None = Field(None, ge=1)
    regression_loss: Literal["mse", "ccc"] = "mse"
    device: Literal["cpu", "cuda"] = "cpu"
    threads: int | None = Field(None, ge=1, description="torch threads per process; default: torch's choice.")
    workers: int = Field(1, ge=1)
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786: folds run there.")
    checkpoint_dir: Path | None = None
    sampling: Literal["grid", "crops"] = "grid"
    crops: CropCounts = CropCounts()
    shared_best: bool = False
    keep: Literal["best", "last"] = "best"
    seed: int = 0

    @model_validator(mode="after")
    def _shared_best_serial(self) -> TrainConfig:
        if self.shared_best and (self.workers > 1 or self.scheduler is not None):
            raise ValueError("shared_best shares one checkpoint between folds in order: it needs workers: 1 and no scheduler")
        if self.shared_best and self.keep == "last":
            raise ValueError("shared_best restores the best checkpoint; it cannot be combined with keep: last")
        return self
