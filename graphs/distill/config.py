"""Configuration of ``biosig distill`` (``configs/distill.yaml``), validated with pydantic.

Sections: ``teacher`` (EEG cohort from ``biosig run``'s ``source``,
``trials`` and ``labels`` sections, topomaps, TopomapCNN training or
checkpoint), ``prototypes`` (reuse a saved grid), ``faces`` (training face
set) and ``cross`` (optional second face set, test only), ``classes`` and
``circumplex``, ``student``, ``losses``, ``variants`` (the loss ablation with
the EEG grid), ``ablation`` (seeds and control grids) and ``report``. Unknown keys and bad values raise
:class:`~biosig.errors.ConfigError` naming the file and the key path.
Hyper-parameter defaults are the paper's where it gives them (field notes
section 2); epoch counts and sizes default to a few-minute CPU run.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biosig.config import LabelsConfig, PreprocessConfig, SourceConfig, TrialsConfig, WindowConfig
from biosig.config.overrides import apply_overrides, mark_override_lines, parse_overrides
from biosig.datasets.synthetic import SyntheticConfig
from biosig.errors import ConfigError
from biosig.features.eeg import DEFAULT_BANDS

from .circumplex import CIRCUMPLEX, FERPLUS_CLASSES, class_cells
from .faces import ExpressionModel, FaceStyle
from .teacher_source import DEFAULT_SCALES, upgrade_teacher_section

Variant = Literal["ce", "ce+kd", "ce+kd+proto", "ce+kd+proto+dgeo"]
Control = Literal["random_teacher", "shuffled_cells", "circumplex"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeacherConfig(_Strict):
    """EEG teacher: DE scalp maps -> TopomapCNN regressing valence and arousal.

    ``source``, ``trials`` and ``labels`` are the sections ``biosig run``
    reads (:class:`biosig.config.SourceConfig`, :class:`~biosig.config.TrialsConfig`,
    :class:`~biosig.config.LabelsConfig`; :mod:`graphs.distill.teacher_source`);
    every trial needs valence and arousal ratings on ``rating_scale``
    (default by kind: 1-5 synthetic and DREAMER, 1-9 DEAP; required for other
    kinds). Windows of whole held-out trials (``holdout_fraction`` of each
    subject's trials) are kept out of training; their embeddings make the
    prototypes. ``checkpoint`` loads a teacher saved by an earlier run (same
    settings) instead of training one.
    """

    source: SourceConfig = SourceConfig(synthetic=SyntheticConfig(n_subjects=6), via_files=False)
    trials: TrialsConfig = TrialsConfig()
    labels: LabelsConfig = LabelsConfig()
    rating_scale: tuple[float, float] | None = Field(None, description="Default by source kind (DEFAULT_SCALES).")
    preprocess: PreprocessConfig = PreprocessConfig()
    windows: WindowConfig = WindowConfig()
    bands: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_BANDS))
    topomap_size: int = Field(32, ge=8)
    widths: tuple[int, ...] = (16, 32, 64)
    dropout: float = Field(0.25, ge=0, lt=1)
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    holdout_fraction: float = Field(0.3, gt=0, lt=1)
    seed: int = 0
    checkpoint: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _former_source(cls, data: Any) -> Any:
        return upgrade_teacher_section(data)

    @model_validator(mode="after")
    def _scale_known(self) -> TeacherConfig:
        if self.rating_scale is None and self.source.kind not in DEFAULT_SCALES:
            raise ValueError(f"rating_scale (low, high) is required with source kind {self.source.kind!r}")
        if self.rating_scale is not None and self.rating_scale[1] <= self.rating_scale[0]:
            raise ValueError(f"rating_scale must be (low, high) with low < high, got {list(self.rating_scale)}")
        return self

    @property
    def scale(self) -> tuple[float, float]:
        """Rating scale ``(low, high)`` of the valence and arousal ratings."""
        return self.rating_scale or DEFAULT_SCALES[self.source.kind]


class PrototypeConfig(_Strict):
    """Reuse a saved grid (``path``: its .npz or .json) instead of building one; the teacher is then skipped."""

    path: Path | None = None


class FaceSourceConfig(_Strict):
    """A face set: ``synthetic`` (embedded), ``ferplus`` (two CSVs) or ``folder`` (one folder per class).

    Synthetic and folder sets are split at random per class (``val_fraction``,
    ``test_fraction``); FERPlus uses its ``Usage`` column. As a ``cross``
    set, all its faces are test faces. ``expression`` chooses how synthetic
    faces express their class (:mod:`graphs.distill.faces`): ``independent``
    (default) draws each class's expression from its own seeded table, not
    from the circumplex table that places the classes on the grid.
    """

    kind: Literal["synthetic", "ferplus", "folder"] = "synthetic"
    n_per_class: int = Field(150, ge=3, description="synthetic: faces per class before splitting.")
    classes: tuple[str, ...] | None = Field(None, description="synthetic: classes drawn (default: all).")
    style: FaceStyle = FaceStyle()
    expression: ExpressionModel = ExpressionModel()
    seed: int = 0
    fer2013_csv: Path | None = None
    ferplus_csv: Path | None = None
    path: Path | None = Field(None, description="folder: root with one sub-folder per class.")
    aliases: dict[str, str] = Field(default_factory=dict, description="folder name -> class name.")
    val_fraction: float = Field(0.15, gt=0, lt=1)
    test_fraction: float = Field(0.25, gt=0, lt=1)

    @model_validator(mode="after")
    def _files_given(self) -> FaceSourceConfig:
        if self.kind == "ferplus" and (self.fer2013_csv is None or self.ferplus_csv is None):
            raise ValueError("kind ferplus needs fer2013_csv and ferplus_csv")
        if self.kind == "folder" and self.path is None:
            raise ValueError("kind folder needs path")
        return self


class StudentConfig(_Strict):
    """Student network and optimisation (AdamW, cosine learning-rate decay, gradient clipping)."""

    arch: Literal["small_cnn", "resnet18"] = "small_cnn"
    widths: tuple[int, ...] = (16, 32, 64, 128)
    base_width: int = Field(64, ge=1, description="resnet18: width of the first stage (64: standard).")
    dropout: float = Field(0.1, ge=0, lt=1)
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(5e-4, ge=0)
    clip_grad: float | None = Field(1.0, gt=0)
    class_weights: bool = True
    augment: bool = True
    max_shift: int = Field(3, ge=0, description="Augmentation: largest random shift, px.")
    seed: int = Field(0, description="First seed; the ablation's repeats use seed, seed + 1, ...")
    device: Literal["cpu", "cuda"] = "cpu"


class KDConfig(_Strict):
    """Logit KD from an EMA of the student (:func:`graphs.distill.losses.logit_kd`).

    The EMA averages over about ``1 / (1 - ema_decay)`` optimiser steps; keep
    that short against an epoch, or KD pulls the student back to its older
    self (0.99: 100 steps, a fraction of a FERPlus epoch at batch 64).
    """

    weight: float = Field(0.30, ge=0)
    ema_decay: float = Field(0.99, ge=0, lt=1)


class ProtoKDConfig(_Strict):
    """Proto-KD (:func:`graphs.distill.losses.proto_kd`)."""

    weight: float = Field(0.12, ge=0)
    tau: float = Field(0.90, gt=-1, le=1)
    temperature: float = Field(5.0, gt=0)
    center: bool = Field(True, description="Centre the prototypes before normalising (PrototypeGrid.unit).")


class DGeoConfig(_Strict):
    """D-Geo (:func:`graphs.distill.losses.d_geo`) on a late cosine schedule, scale-free by default.

    ``share`` (default 0.02): D-Geo is rescaled every batch to be exactly the
    fraction ``share * s(e)`` of the batch loss, ``s(e)`` the schedule factor
    (:func:`graphs.distill.losses.share_weighted`; definition in
    :mod:`graphs.distill.losses`), so the share does not depend on how far the
    spread has already shrunk, nor on the grid the student is trained with:
    every row of the ablation gets the same share. ``share: null`` uses the
    absolute form ``weight * s(e) * DGeo`` instead (``weight`` is ignored
    otherwise). Why the absolute form fails here: the paper's weight 0.012 and
    hard gate 0.2 left D-Geo at about 1e-5 of the loss (Proto-KD already keeps
    the positive faces within cosine distance 0.2 of their class centre, so
    the hinge is almost always 0), and with gate 0 a larger weight did not
    raise the share: on ``configs/distill.yaml`` weight 100 and 300 both gave
    0.7-1.2% per run, because the spread shrinks in proportion to the weight.
    """

    share: float | None = Field(
        0.02, ge=0, lt=1, description="Fraction of each batch's loss at full schedule; null: absolute weight."
    )
    weight: float = Field(100.0, ge=0, description="Absolute weight, used only when share is null.")
    positive_classes: tuple[str, ...] = ("happiness", "surprise")
    start_epoch: float = Field(20, ge=0)
    end_epoch: float = Field(60, gt=0)
    hard_gate: float = Field(0.0, ge=0, le=2, description="The paper's 0.2 leaves the term at 0 (docstring).")

    @model_validator(mode="after")
    def _ordered(self) -> DGeoConfig:
        if self.end_epoch <= self.start_epoch:
            raise ValueError(f"end_epoch ({self.end_epoch}) must exceed start_epoch ({self.start_epoch})")
        return self


class LossConfig(_Strict):
    """Weights and settings of every loss term."""

    label_smoothing: float = Field(0.055, ge=0, lt=1)
    kd: KDConfig = KDConfig()
    proto_kd: ProtoKDConfig = ProtoKDConfig()
    d_geo: DGeoConfig = DGeoConfig()


class AblationConfig(_Strict):
    """Repeats and controls of the ablation (:mod:`graphs.distill.ablation`).

    Every variant of ``variants`` (EEG grid) and ``control_variant`` with
    each control grid (:mod:`graphs.distill.controls`) is trained with the
    seeds ``student.seed + k``, ``k < n_seeds``; the seed sets the student's
    weights, batches and augmentation and the control's randomness, not the
    EEG teacher (trained once).
    """

    n_seeds: int = Field(3, ge=1)
    controls: tuple[Control, ...] = ("random_teacher", "shuffled_cells", "circumplex")
    control_variant: Variant = Field("ce+kd+proto+dgeo", description="Variant trained with each control grid.")
    brain_free: Variant = Field("ce+kd", description="The reference without prototypes in the comparisons.")


class ReportSettings(_Strict):
    """Where the report goes and whether the full student is exported to ONNX."""

    out_dir: Path = Path("reports/distill")
    onnx: bool = True


class DistillConfig(_Strict):
    """A whole ``biosig distill`` run."""

    name: str = "distill"
    teacher: TeacherConfig = TeacherConfig()
    prototypes: PrototypeConfig = PrototypeConfig()
    classes: tuple[str, ...] = FERPLUS_CLASSES
    circumplex: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(CIRCUMPLEX))
    faces: FaceSourceConfig = FaceSourceConfig()
    cross: FaceSourceConfig | None = None
    student: StudentConfig = StudentConfig()
    losses: LossConfig = LossConfig()
    variants: tuple[Variant, ...] = ("ce", "ce+kd", "ce+kd+proto", "ce+kd+proto+dgeo")
    ablation: AblationConfig = AblationConfig()
    report: ReportSettings = ReportSettings()
    threads: int | None = Field(None, ge=1, description="torch CPU threads for the run; default: torch's choice.")

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: tuple[str, ...]) -> tuple[str, ...]:
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be at least 2 distinct names, got {list(classes)}")
        return classes

    @model_validator(mode="after")
    def _consistent(self) -> DistillConfig:
        try:
            class_cells(self.classes, self.circumplex)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        unknown = [c for c in self.losses.d_geo.positive_classes if c not in self.classes]
        if unknown:
            raise ValueError(f"losses.d_geo.positive_classes {unknown} are not in classes {list(self.classes)}")
        for where, faces in (("faces", self.faces), ("cross", self.cross)):
            extra = [c for c in ((faces.classes or ()) if faces else ()) if c not in self.classes]
            if extra:
                raise ValueError(f"{where}.classes {extra} are not in classes {list(self.classes)}")
        if not self.variants:
            raise ValueError("variants must name at least one training variant")
        if self.ablation.controls and self.ablation.control_variant not in self.variants:
            raise ValueError(f"ablation.control_variant {self.ablation.control_variant!r} must be one of variants")
        if self.ablation.controls and "proto" not in self.ablation.control_variant:
            raise ValueError("ablation.control_variant must use the prototypes (ce+kd+proto or ce+kd+proto+dgeo)")
        if len(set(self.ablation.controls)) != len(self.ablation.controls):
            raise ValueError(f"ablation.controls repeats a control: {list(self.ablation.controls)}")
        cross, faces = self.cross, self.faces
        if cross is not None and cross.kind == faces.kind == "synthetic" and cross.expression != faces.expression:
            raise ValueError("cross.expression must equal faces.expression: both sets must express a class alike")
        return self


def load_distill_config(path: str | Path, overrides: Sequence[str] = ()) -> DistillConfig:
    """Read and validate a YAML ``biosig distill`` configuration, with ``--set KEY=VALUE`` arguments applied first.

    ``overrides`` are written into the file's mapping before validation
    (:mod:`biosig.config.overrides`), so they are checked as the file is.

    Raises
    ------
    ConfigError
        Missing or unreadable file, invalid YAML, a malformed ``--set``, or invalid keys/values (all listed,
        each by key path; a line about a key that ``--set`` gave ends with ``(from --set KEY=VALUE)``).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    data = data or {}
    parsed = parse_overrides(overrides)
    if isinstance(data, dict):
        data = apply_overrides(data, parsed)
    try:
        return distill_config_from_dict(data, origin=str(path))
    except ConfigError as exc:
        if not parsed:
            raise
        raise ConfigError(mark_override_lines(str(exc), parsed)) from None


def distill_config_from_dict(data: Any, origin: str = "config") -> DistillConfig:
    """Validate a mapping as a :class:`DistillConfig` (errors as :func:`load_distill_config`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must hold a mapping of keys, not {type(data).__name__}")
    try:
        return DistillConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "<root>"
            if err["type"] == "extra_forbidden":
                lines.append(f"{key}: unknown key; allowed keys here are {_allowed_keys(err['loc'][:-1])}")
            else:
                lines.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{origin}: invalid distill configuration\n  " + "\n  ".join(lines)) from None


def _allowed_keys(parent: tuple[Any, ...]) -> list[str]:
    """Field names of the section at key path ``parent`` of :class:`DistillConfig`."""
    model: Any = DistillConfig
    for part in parent:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return []
        annotation = fields[part].annotation
        candidates = [annotation, *typing.get_args(annotation)]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return sorted(getattr(model, "model_fields", {}))
