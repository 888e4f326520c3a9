"""Typed run configuration, loaded from YAML and validated: one schema for ``biosig run`` and ``biosig train``.

Every knob of the offline pipeline is named once here. The same objects drive
the live pipeline later, so preprocessing and features mean the same thing
offline and online. Sections: :mod:`biosig.config.data` (source,
preprocessing, feature windows, features, cache, report),
:mod:`biosig.config.trials` (trials and labels),
:mod:`biosig.config.evaluation` (models, evaluation, training) and
:mod:`biosig.config.loading` (:class:`RunConfig`, :func:`load_config` and the
messages for keys that moved).
"""

from biosig.config.data import (
    BadChannelConfig,
    BaselineConfig,
    CacheConfig,
    FeatureConfig,
    FilterConfig,
    IcaConfig,
    PreprocessConfig,
    ReportConfig,
    SourceConfig,
    StrictSection,
    WindowConfig,
)
from biosig.config.evaluation import (
    FEATURE_MODELS,
    PROTOCOL_ALIASES,
    EvaluationConfig,
    FinetuneConfig,
    ModelSpec,
    Protocol,
    Target,
    Task,
    TrainConfig,
    TrainWindowConfig,
)
from biosig.config.trials import LabelsConfig, RatingsTable, TableTrials, ThresholdEvents, TrialsConfig
from biosig.config.loading import (
    MOVED_KEYS,
    RunConfig,
    config_from_dict,
    load_config,
    moved_keys,
)

__all__ = [
    "FEATURE_MODELS",
    "MOVED_KEYS",
    "PROTOCOL_ALIASES",
    "BadChannelConfig",
    "BaselineConfig",
    "CacheConfig",
    "EvaluationConfig",
    "FeatureConfig",
    "FilterConfig",
    "FinetuneConfig",
    "IcaConfig",
    "LabelsConfig",
    "ModelSpec",
    "PreprocessConfig",
    "Protocol",
    "RatingsTable",
    "ReportConfig",
    "RunConfig",
    "SourceConfig",
    "StrictSection",
    "TableTrials",
    "Target",
    "Task",
    "TrainConfig",
    "ThresholdEvents",
    "TrainWindowConfig",
    "TrialsConfig",
    "WindowConfig",
    "config_from_dict",
    "load_config",
    "moved_keys",
]
