"""Model checkpoints: tensors and a JSON string only, read back with ``torch.load(weights_only=True)``.

Reading a checkpoint file thus runs no code from it. Building its model does import the module
of an external model class it names (``package.module:Class``, :mod:`graphs.models.external`),
like any Python import: only importable modules can be named, and only ``torch.nn.Module``
subclasses are called, but a checkpoint naming an external class is trusted input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biosig.errors import ConfigError, DataError

CHECKPOINT_FORMAT = 1


def save_checkpoint(path: str | Path, model: nn.Module, metadata: dict[str, Any]) -> Path:
    """Save the model's weights and JSON-able ``metadata`` (e.g. model name, hyper-parameters, config).

    The file holds ``{"format": int, "state_dict": {name: tensor}, "metadata": json string}``,
    which :func:`torch.load` reads with ``weights_only=True``.

    Raises
    ------
    ConfigError
        ``metadata`` is not JSON-serialisable (the message names the problem).
    """
    try:
        text = json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"checkpoint metadata must be JSON-serialisable: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "state_dict": state, "metadata": text}, path)
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint with ``torch.load(weights_only=True)``: ``(state_dict, metadata)``.

    Raises
    ------
    DataError
        The file is missing, not a checkpoint of this format, holds
        anything but tensors and the JSON metadata, or its metadata is not
        a JSON object (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for foreign or unsafe files
        raise DataError(f"checkpoint {path} cannot be read safely: {exc}") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT or not isinstance(blob.get("metadata"), str):
        raise DataError(f"checkpoint {path} is not a biosig checkpoint (format {CHECKPOINT_FORMAT})")
    state = blob.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"checkpoint {path}: state_dict must map names to tensors")
    try:
        metadata = json.loads(blob["metadata"])
    except (ValueError, RecursionError) as exc:
        raise DataError(f"checkpoint {path}: its metadata is not JSON ({exc})") from None
    if not isinstance(metadata, dict):
        raise DataError(f"checkpoint {path}: its metadata must be a JSON object, got a {type(metadata).__name__}")
    return state, metadata
