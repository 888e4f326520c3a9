"""Model zoo: HiSTN and its baselines on one typed base with a registry.

* ``histn``: HiSTN (Kuang et al. 2024) on raw windows ``(batch, channel, time)``, any region hierarchy;
* ``hierarchical_gnn``: HiSTN's hierarchy with any PyG channel conv (raw windows or a PyG batch of them);
* ``eegnet``: EEGNet-8,2 (Lawhern et al. 2018) on raw windows ``(batch, channel, time)``;
* ``dgcnn``: DGCNN (Song et al. 2018, TorchEEG's formulation) on DE ``(batch, channel, band)``;
* ``logreg_de``: logistic regression (one linear layer) on DE ``(batch, channel, band)``;
* ``topomap_cnn``: small CNN on scalp maps ``(batch, band, y, x)`` with an embedding (distillation teacher).

Any other ``"package.module:Class"`` name is a model from elsewhere, e.g. a
braindecode-style ``Class(n_chans, n_outputs, n_times, sfreq, **hparams)`` on
raw windows, imported when named (:mod:`graphs.models.external`, which says
why configs naming one are trusted input).

``build_model(name, seed=0, **hparams)`` validates the hyper-parameters
(``ConfigError`` naming unknown ones); ``parameter_table()`` lists sizes;
``predict(model, x, scale)`` gives class probabilities and the expected rating.
After each optimiser step the trainer calls ``model.apply_constraints()``.
"""

from .base import (
    MODELS,
    RESOLVERS,
    EEGModel,
    ModelConfig,
    ParameterCount,
    Prediction,
    build_model,
    count_parameters,
    make_config,
    model_class,
    parameter_table,
    predict,
)
from .dgcnn import DGCNN, DGCNNConfig
from .eegnet import EEGNet, EEGNetConfig
from .external import ExternalConfig, ExternalModel, is_external, resolve
from .hierarchical_gnn import HierarchicalGNN, HierarchicalGNNConfig, histn_equivalent
from .histn import HiSTN, HiSTNConfig
from .logreg_de import LogRegDE, LogRegDEConfig
from .topomap_cnn import TopomapCNN, TopomapCNNConfig

RESOLVERS.append(resolve)

__all__ = [
    "DGCNN",
    "MODELS",
    "DGCNNConfig",
    "EEGModel",
    "EEGNet",
    "EEGNetConfig",
    "ExternalConfig",
    "ExternalModel",
    "HiSTN",
    "HiSTNConfig",
    "HierarchicalGNN",
    "HierarchicalGNNConfig",
    "LogRegDE",
    "LogRegDEConfig",
    "ModelConfig",
    "ParameterCount",
    "Prediction",
    "TopomapCNN",
    "TopomapCNNConfig",
    "build_model",
    "count_parameters",
    "histn_equivalent",
    "is_external",
    "make_config",
    "model_class",
    "parameter_table",
    "predict",
]
