"""Run configs for tests from one flat mapping of model, evaluation and train keys.

Tests describe a deep-model run as one mapping (``models``, ``windows``,
``protocols``, ``epochs``, ...); :func:`sections` sorts the keys into the
config's ``models`` / ``evaluation`` / ``train`` sections (``windows`` go to
every deep model, ``seed`` becomes ``evaluation.seeds``) and
:func:`run_config` validates them as a :class:`~biosig.config.RunConfig`.
"""

from __future__ import annotations

from typing import Any

from biosig.config import EvaluationConfig, RunConfig, TrainConfig, TrainWindowConfig, config_from_dict


def sections(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"models": [...], "evaluation": {...}, "train": {...}}`` from a flat mapping (module docstring)."""
    flat = dict(flat)
    windows = flat.pop("windows", None)
    models = []
    for spec in flat.pop("models", [{"name": "histn"}]):
        spec = dict(spec) if isinstance(spec, dict) else spec.model_dump()
        if windows is not None and spec.get("windows") is None:
            spec["windows"] = windows
        if spec.get("windows") is None:
            spec.pop("windows", None)
        models.append(spec)
    evaluation: dict[str, Any] = {}
    train: dict[str, Any] = {}
    if "seed" in flat:
        evaluation["seeds"] = [flat.pop("seed")]
    for key, value in flat.items():
        if key in EvaluationConfig.model_fields:
            evaluation[key] = value
        elif key in TrainConfig.model_fields:
            train[key] = value
        else:
            raise KeyError(f"{key} is neither an evaluation nor a train key")
    return {"models": models, "evaluation": evaluation, "train": train}


def run_config(**flat: Any) -> RunConfig:
    """A validated :class:`RunConfig` from a flat mapping (:func:`sections`)."""
    return config_from_dict(sections(flat))


def fold_settings(config: RunConfig) -> tuple[EvaluationConfig, TrainWindowConfig, int]:
    """``(evaluation, windows of the first model, first seed)``: the settings :func:`protocol_folds` takes after the labels."""
    return config.evaluation, config.models[0].input_windows, config.evaluation.seeds[0]
