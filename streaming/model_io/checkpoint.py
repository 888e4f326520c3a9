"""Live checkpoint files: saving one model with its metadata, loading models into a live model.

The format is the trainer's (:func:`graphs.training.trainer.save_checkpoint`:
tensors and a JSON string, read with ``torch.load(weights_only=True)``), one
file per model; the metadata keys are listed in :mod:`streaming.model_io`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from biosig.errors import ConfigError
from graphs.models import EEGModel
from graphs.training.trainer import load_checkpoint, save_checkpoint
from streaming.model_io.metadata import spec_from_metadata, target_model
from streaming.model_io.models import LiveModel, TargetModel
from streaming.model_io.spec import LiveSpec


def save_live_checkpoint(path: str | Path, model: EEGModel, metadata: Mapping[str, Any]) -> Path:
    """Save ``model`` with ``metadata`` in the trainer's checkpoint format.

    ``metadata`` comes from :func:`~streaming.model_io.metadata.live_metadata`.
    """
    return save_checkpoint(path, model, dict(metadata))


def load_live_model(
    paths: str | Path | Sequence[str | Path], *, hop: float | None = None, allow_uncalibrated: bool = False
) -> LiveModel:
    """Load one checkpoint per model into a :class:`~streaming.model_io.models.LiveModel`.

    Parameters
    ----------
    paths
        Checkpoint files (``torch.load(weights_only=True)``), e.g. a valence
        and an arousal classifier.
    hop
        Window hop in seconds for the live run; default: the checkpoints' hop.
    allow_uncalibrated
        Accept checkpoints that still need a calibration (the caller
        calibrates the returned model's spec, e.g. from the stream).

    Raises
    ------
    DataError
        A file is missing or not a checkpoint.
    ConfigError
        Metadata keys missing or invalid, the checkpoints disagree on the
        input (the message names the key and the files), or they need a
        calibration and ``allow_uncalibrated`` is false.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise ConfigError("no checkpoint given: the live pipeline needs at least one model")
    entries: list[TargetModel] = []
    spec: LiveSpec | None = None
    first_source, first_meta = "", {}
    for path in paths:
        state, meta = load_checkpoint(path)
        source = str(path)
        this_spec = spec_from_metadata(meta, source)
        shared = this_spec.as_metadata()
        if spec is None:
            spec, first_source, first_meta = this_spec, source, shared
        else:
            for key in sorted(set(shared) | set(first_meta)):
                if shared.get(key) != first_meta.get(key):
                    raise ConfigError(
                        f"checkpoints {first_source} and {source} disagree on {key!r}: "
                        f"{first_meta.get(key)!r} vs {shared.get(key)!r}"
                    )
        entries.append(target_model(meta, state, source))
    assert spec is not None
    if spec.needs_calibration and not allow_uncalibrated:
        files = " ".join(str(p) for p in paths)
        raise ConfigError(
            f"{files}: the model needs a calibration (its normalisation is the statistics of a rest recording "
            f"of the live session): run `biosig calibrate {files} --from REST_RECORDING --out DIR` and stream "
            "the calibrated copies, or calibrate from the stream's first seconds of rest with "
            "`biosig stream --calibrate 60`"
        )
    if hop is not None:
        spec = spec.with_hop(hop)
    return LiveModel(spec, entries)
