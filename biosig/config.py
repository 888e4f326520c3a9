"""Typed experiment configuration, loaded from YAML and validated.

Every knob of the offline pipeline is named once here. The same objects drive
the live pipeline later, so preprocessing and features mean the same thing
offline and online. Load a file with :func:`load_config`; a bad key or value
raises :class:`~biosig.errors.ConfigError` whose message names the file, the
key path (``preprocess.filter.method``) and the allowed values.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biosig.datasets.synthetic import SyntheticConfig
from biosig.errors import ConfigError
from biosig.features.eeg import DEFAULT_ASYMMETRY_PAIRS, DEFAULT_BANDS

Target = Literal["valence", "arousal", "dominance"]
Task = Literal["binary", "five_class"]
#: Tasks of ``biosig train``: the baseline's (``evaluation.tasks``, which cannot regress) and ``regression``.
TrainTask = Literal["binary", "five_class", "regression"]
Protocol = Literal["subject_dependent_kfold", "loso"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """Where sessions come from.

    ``kind: synthetic`` builds the embedded cohort. With ``via_files: true``
    each session is first written as EDF (EEG) + CSV (ECG, EDA, trials) under
    ``files_dir`` (default: ``<report dir>/data``) and read back, so the main job
    exercises the file path of the pipeline.
    """

    kind: Literal["synthetic"] = "synthetic"
    synthetic: SyntheticConfig = SyntheticConfig()
    via_files: bool = True
    files_dir: Path | None = None


class FilterConfig(_Strict):
    """Notch and band-pass filters (MNE).

    ``causal: true`` makes every filter causal (FIR minimum phase or forward
    IIR), and the resampling to ``preprocess.resample_sfreq`` too (SciPy's
    polyphase filter run forward, :func:`biosig.preprocess.resample.resample_causal`,
    instead of MNE's FFT resampling), as the live pipeline must be; the default
    is MNE's zero-phase filtering and resampling for offline analysis.
    """

    line_freq: float | None = Field(50.0, gt=0, description="Notch frequency in Hz (harmonics below h_freq too); null disables.")
    l_freq: float | None = Field(1.0, gt=0, description="High-pass edge in Hz; null disables.")
    h_freq: float | None = Field(45.0, gt=0, description="Low-pass edge in Hz; null disables.")
    method: Literal["fir", "iir"] = "fir"
    iir_order: int = Field(4, ge=1, le=10, description="Butterworth order when method is iir.")
    causal: bool = Field(
        False,
        description="Causal filters and causal resampling (the live pipeline's); false: MNE's zero-phase ones.",
    )

    @model_validator(mode="after")
    def _edges_ordered(self) -> "FilterConfig":
        if self.l_freq is not None and self.h_freq is not None and self.l_freq >= self.h_freq:
            raise ValueError(f"l_freq ({self.l_freq} Hz) must be below h_freq ({self.h_freq} Hz)")
        return self


class BadChannelConfig(_Strict):
    """Flat/noisy channel detection and spherical-spline interpolation."""

    enabled: bool = True
    flat_threshold: float = Field(1e-7, gt=0, description="A channel whose robust amplitude is below this (V) is flat.")
    noisy_z: float = Field(5.0, gt=0, description="Robust z-score of channel amplitude above which a channel is noisy.")
    interpolate: bool = True
    max_fraction: float = Field(0.25, gt=0, le=1, description="More bad channels than this fraction is an error.")


class IcaConfig(_Strict):
    """Optional ICA blink removal using frontal channels as EOG proxies."""

    enabled: bool = False
    n_components: int | float | None = Field(None, description="Passed to mne.preprocessing.ICA; default: rank.")
    eog_proxies: tuple[str, ...] = ("AF3", "AF4")
    threshold: float = Field(3.0, gt=0, description="z-score threshold of mne's find_bads_eog.")
    method: Literal["fastica", "infomax"] = "fastica"
    seed: int = 0


class BaselineConfig(_Strict):
    """Baseline normalisation from each trial's pre-trial baseline (DREAMER style).

    * ``feature_subtract``: features of the baseline windows are averaged and
      subtracted from the trial's features (log-domain features: DE, FAA; and
      the peripheral features), as TorchEEG's BaselineRemoval on DE.
    * ``zscore``: each channel of the trial's EEG is z-scored with the mean and
      standard deviation of the baseline (HiSTN uses the middle 10 s:
      ``start: 25.5, stop: 35.5``).
    * ``none``: no normalisation.

    ``start``/``stop`` select a segment of the baseline in seconds from its
    onset (default: the whole baseline).
    """

    mode: Literal["none", "zscore", "feature_subtract"] = "feature_subtract"
    start: float = Field(0.0, ge=0)
    stop: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _segment_ordered(self) -> "BaselineConfig":
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"stop ({self.stop} s) must be after start ({self.start} s)")
        return self


class PreprocessConfig(_Strict):
    """EEG preprocessing, applied in this order: filters, bad channels,
    re-reference, resample, ICA; baseline normalisation happens per trial."""

    channels: tuple[str, ...] | None = Field(
        None, description="EEG channels to keep, in this order; a session lacking one is an error. Default: all EEG channels."
    )
    filter: FilterConfig = FilterConfig()
    bad_channels: BadChannelConfig = BadChannelConfig()
    reference: Literal["average"] | tuple[str, ...] | None = "average"
    resample_sfreq: float | None = Field(None, gt=0, description="Target EEG rate in Hz; null keeps the original.")
    ica: IcaConfig = IcaConfig()
    baseline: BaselineConfig = BaselineConfig()


class WindowConfig(_Strict):
    """Sliding windows over each trial's stimulus (seconds), shared by all modalities."""

    length: float = Field(4.0, gt=0)
    hop: float = Field(2.0, gt=0)


class FeatureConfig(_Strict):
    """Per-window features. Bands are ``name: [fmin, fmax]`` in Hz."""

    bands: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_BANDS))
    asymmetry_band: str = "alpha"
    asymmetry_pairs: tuple[tuple[str, str], ...] = DEFAULT_ASYMMETRY_PAIRS
    peripheral: bool = True

    @field_validator("bands")
    @classmethod
    def _bands_valid(cls, bands: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        if not bands:
            raise ValueError("at least one band is needed")
        for name, (lo, hi) in bands.items():
            if not 0 <= lo < hi:
                raise ValueError(f"band {name!r} must satisfy 0 <= fmin < fmax, got [{lo}, {hi}]")
        return bands

    @model_validator(mode="after")
    def _asymmetry_band_known(self) -> "FeatureConfig":
        if self.asymmetry_band not in self.bands:
            raise ValueError(
                f"asymmetry_band {self.asymmetry_band!r} is not one of the bands {sorted(self.bands)}"
            )
        return self


class EvaluationConfig(_Strict):
    """Baseline classifier (standardised logistic regression) and protocols.

    ``binary`` labels are ``rating > threshold``; ``five_class`` uses the
    ratings 1..5 as classes. ``subject_dependent_kfold`` splits each subject's
    trials into ``n_folds`` folds (whole trials held out); ``loso`` is
    leave-one-subject-out.
    """

    targets: tuple[Target, ...] = ("valence", "arousal")
    tasks: tuple[Task, ...] = ("binary", "five_class")
    protocols: tuple[Protocol, ...] = ("subject_dependent_kfold", "loso")
    n_folds: int = Field(5, ge=2)
    threshold: float = 3.0
    C: float = Field(0.1, gt=0, description="Inverse L2 regularisation strength of the logistic regression.")
    seed: int = 0


class ReportConfig(_Strict):
    """Where the report folder goes."""

    out_dir: Path = Path("reports/demo")


class CacheConfig(_Strict):
    """Per-subject feature cache and parallel workers (:mod:`biosig.cohort`).

    With every key at its default the main job runs subjects one by one in
    memory. Setting ``dir`` caches each subject's features there (Zarr);
    ``workers > 1`` runs subjects in that many local processes and
    ``scheduler`` (``tcp://host:8786``) on a Dask cluster, both through the
    cache (``<report dir>/cache`` when ``dir`` is not set).
    """

    dir: Path | None = None
    workers: int = Field(1, ge=1, description="Local worker processes.")
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786.")


class ModelSpec(_Strict):
    """A model of the zoo (:func:`graphs.models.build_model`) and its hyper-parameters.

    ``n_outputs`` and ``output`` are set from the task (2 or 5 classes, or
    one regression value) and must not be given.
    """

    name: str = "histn"
    hparams: dict[str, Any] = Field(default_factory=dict)

    @field_validator("hparams")
    @classmethod
    def _no_n_outputs(cls, hparams: dict[str, Any]) -> dict[str, Any]:
        if "n_outputs" in hparams:
            raise ValueError("n_outputs follows the task (binary: 2, five_class: 5, regression: 1); remove it")
        if "output" in hparams:
            raise ValueError("output follows the task (regression: 'regression', else 'classes'); remove it")
        return hparams


class TrainWindowConfig(_Strict):
    """Deep-model inputs (:mod:`graphs.training.windows_dataset`); defaults are HiSTN's.

    The last ``record_seconds`` of each stimulus, z-scored per channel with
    the middle ``baseline_seconds`` of the trial's baseline, cut into windows
    of ``length`` every ``hop`` seconds; raw windows are also divided by each
    record's channel maximum when ``max_normalize``. ``preprocess: true``
    first applies the run's ``preprocess`` section (the authors filter nothing).
    With ``peripheral_seconds`` set, each window also gets ECG and EDA features
    of the ``peripheral_seconds`` ending with it (causal), minus the trial's
    baseline mean (needed by models with ``peripheral`` nodes; off by default).
    """

    length: float = Field(1.0, gt=0)
    hop: float = Field(1.0, gt=0)
    record_seconds: float = Field(60.0, gt=0)
    baseline_seconds: float = Field(10.0, gt=0)
    max_normalize: bool = True
    preprocess: bool = False
    peripheral_seconds: float | None = Field(None, gt=0)


class FinetuneConfig(_Strict):
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


class TrainConfig(_Strict):
    """Deep-model training and evaluation (``biosig train``); defaults are HiSTN's subject-dependent setting.

    Protocols: ``histn_blocks`` (HiSTN's within-trial 10-block split),
    ``leave_trials_out`` (whole trials held out, ``n_folds`` per subject),
    ``loso`` (leave-one-subject-out, optional ``label_correction`` and
    ``finetune``). ``max_folds`` runs only the first folds of each subject
    (subject-dependent) or the first subjects (LOSO), for quick runs.
    Training: Adam at ``lr``, changed to ``lr_steps[e]`` from epoch ``e``
    (0-based), class-balanced batches, soft-target cross-entropy with
    ``label_mode`` targets (``sigma`` for smoothing), early stopping after
    ``patience`` epochs without a lower validation loss (``null``: never),
    restoring the best epoch. ``device: cuda`` falls back to the CPU when no
    GPU is available. ``workers > 1`` trains folds in that many local
    processes; ``scheduler`` (a Dask address, ``tcp://host:8786``) trains them
    on that cluster instead (:class:`biosig.executor.Executor`).

    Task ``regression``: one output trained on the rating rescaled from
    ``rating_range`` to [-1, 1] (:func:`biosig.evaluation.labels.regression_targets`;
    scores and predictions are reported back on the rating scale) with
    ``regression_loss`` (``mse``, or ``ccc``: 1 - concordance correlation over
    the batch), which the validation loss uses too. Where classification uses
    classes (balanced batches, stratified validation and test folds, LOSO
    label correction) regression uses the ratings rounded to the scale's
    points (:func:`~biosig.evaluation.labels.rating_bins`).
    """

    models: tuple[ModelSpec, ...] = (ModelSpec(),)
    protocols: tuple[Literal["histn_blocks", "leave_trials_out", "loso"], ...] = ("histn_blocks",)
    targets: tuple[Target, ...] = ("valence", "arousal")
    tasks: tuple[TrainTask, ...] = ("five_class",)
    threshold: float = 3.0
    rating_range: tuple[float, float] = (1.0, 5.0)
    regression_loss: Literal["mse", "ccc"] = "mse"
    windows: TrainWindowConfig = TrainWindowConfig()
    epochs: int = Field(50, ge=1)
    batch_size: int = Field(256, ge=1)
    steps_per_epoch: int | None = Field(None, ge=1, description="Default: training windows / batch size, rounded up.")
    lr: float = Field(1e-3, gt=0)
    lr_steps: dict[int, float] = Field(default_factory=lambda: {30: 5e-4})
    balanced: bool = True
    label_mode: Literal["smoothing", "onehot"] = "smoothing"
    sigma: float = Field(0.5, gt=0)
    patience: int | None = Field(None, ge=1)
    device: Literal["cpu", "cuda"] = "cpu"
    seed: int = 0
    n_folds: int = Field(5, ge=2)
    max_folds: int | None = Field(None, ge=1)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    label_correction: bool = False
    finetune: FinetuneConfig = FinetuneConfig()
    workers: int = Field(1, ge=1)
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786: folds run there.")
    threads: int | None = Field(None, ge=1, description="torch threads per process; default: torch's choice.")
    checkpoint_dir: Path | None = None

    @field_validator("rating_range")
    @classmethod
    def _range_ordered(cls, rating_range: tuple[float, float]) -> tuple[float, float]:
        if not rating_range[0] < rating_range[1]:
            raise ValueError(f"rating_range must be [low, high] with low < high, got {list(rating_range)}")
        return rating_range


class RunConfig(_Strict):
    """A whole offline run: source -> preprocess -> features -> evaluation -> report."""

    name: str = "demo"
    source: SourceConfig = SourceConfig()
    preprocess: PreprocessConfig = PreprocessConfig()
    windows: WindowConfig = WindowConfig()
    features: FeatureConfig = FeatureConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    report: ReportConfig = ReportConfig()
    cache: CacheConfig = CacheConfig()
    train: TrainConfig = TrainConfig()


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML run configuration.

    Relative paths inside the file stay relative to the working directory.
    Raises :class:`ConfigError` naming the file and every offending key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not {type(data).__name__}")
    return config_from_dict(data, origin=str(path))


def config_from_dict(data: dict[str, Any], origin: str = "config") -> RunConfig:
    """Validate a plain mapping as a :class:`RunConfig` (see :func:`load_config`)."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_describe_error(err) for err in exc.errors()]
        raise ConfigError(f"{origin}: invalid configuration\n  " + "\n  ".join(lines)) from None


def _describe_error(err: dict[str, Any]) -> str:
    loc = tuple(str(p) for p in err["loc"])
    key = ".".join(loc) or "<root>"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{key}: unknown key; allowed keys here are {allowed}"
    msg = err["msg"]
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {msg} (got {err.get('input')!r})"


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    """Field names of the model found at ``parent`` within :class:`RunConfig`."""
    model: Any = RunConfig
    for part in parent:
        if part.isdigit():  # an index into a list of models (train.models.0)
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = _model_of(fields[part].annotation)
    fields = getattr(model, "model_fields", None)
    return sorted(fields) if fields else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
