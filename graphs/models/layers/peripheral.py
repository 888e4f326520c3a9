"""Peripheral signals as global-level nodes of a model: the config type, the fusion layer and the input check.

The fusion layer works on per-window vectors ``(n_batch, ...)``, not on the
channel-major tensors of the other layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import AfterValidator, BeforeValidator, Field
from torch import nn

from biosig.errors import ConfigError, DataError

from .keras_weights import glorot_uniform_


def _pairs(value: Any) -> Any:
    """Accept ``{name: n_features}`` (as YAML writes it) besides ``((name, n_features), ...)``."""
    return tuple(value.items()) if isinstance(value, Mapping) else value


def _distinct_names(nodes: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    names = [name for name, _ in nodes]
    if len(set(names)) != len(names):
        raise ValueError(f"peripheral node names must be distinct, got {names}")
    return nodes


#: Config type of a model's peripheral nodes: ``((name, n_features), ...)`` in the
#: column order of the peripheral input, e.g. ``(("ecg", 4), ("eda", 3))``; a
#: mapping ``{ecg: 4, eda: 3}`` is accepted too. Empty: an EEG-only model.
PeripheralNodes = Annotated[
    tuple[tuple[str, Annotated[int, Field(ge=1)]], ...],
    BeforeValidator(_pairs),
    AfterValidator(_distinct_names),
]


class PeripheralFusion(nn.Module):
    """Peripheral signals as extra global-level nodes (:class:`graphs.regions.PeripheralHierarchy`).

    Per window: the peripheral feature vector ``(n_features,)`` (columns node by
    node, as ``sizes`` says) is standardised by a BatchNorm without affine
    parameters (the features keep physical units, bpm, ms, µS, whose scales differ
    by 100x); each node's slice is embedded by its own ``Linear(n, width)``;
    the EEG global node ``g`` and the embeddings ``e_p`` are the global-level
    nodes ``H`` ``(1 + n_nodes, width)``, which exchange one round of sum
    messages over the star ``adjacency`` (GIN's update with eps = 0 and no MLP,
    since the embeddings are already learned): ``H' = H + A_b H``. The
    updated global node ``H'[0] = g + sum_p e_p`` over the nodes present is
    returned for the read-out.

    Missing data: NaN (or inf) marks a missing feature. A node with no finite
    feature in a window is missing there: its row and column of ``A_b`` are
    zeroed (as the :class:`~graphs.regions.PeripheralHierarchy` docstring
    suggests), so a window whose peripheral features are all missing returns
    ``g`` unchanged, exactly what the EEG-only model computes. A single missing
    feature of a present node is set to 0, the trial's baseline level of
    baseline-subtracted features, before the BatchNorm (whose statistics thus
    count it as 0 too). Hand-written: PyG's ``GINConv`` takes one graph for the
    whole batch, not a per-window mask, and the star has only a few nodes.

    Parameters
    ----------
    sizes
        Feature count of each peripheral node, in column order.
    width
        Width of the EEG global node's representation.
    adjacency
        Symmetric 0/1 adjacency ``(1 + n_nodes, 1 + n_nodes)`` of the global
        level, node 0 the EEG global node
        (:meth:`graphs.regions.PeripheralHierarchy.global_adjacency`).
    """

    def __init__(self, sizes: Sequence[int], width: int, adjacency: np.ndarray) -> None:
        super().__init__()
        if adjacency.shape != (len(sizes) + 1,) * 2:
            raise ConfigError(f"adjacency {adjacency.shape} does not fit 1 + {len(sizes)} global-level nodes")
        self.sizes = tuple(sizes)
        self.norm = nn.BatchNorm1d(sum(self.sizes), affine=False)
        self.embed = nn.ModuleList([nn.Linear(n, width) for n in self.sizes])
        self.register_buffer("adjacency", torch.tensor(adjacency, dtype=torch.float32), persistent=False)
        self.reset_parameters()

    @property
    def n_features(self) -> int:
        """Columns of the peripheral input."""
        return sum(self.sizes)

    def reset_parameters(self) -> None:
        """Keras' Dense defaults for the embeddings (glorot-uniform, zero bias); BatchNorm statistics reset."""
        self.norm.reset_running_stats()
        for layer in self.embed:
            glorot_uniform_(layer.weight, layer.in_features, layer.out_features)
            nn.init.zeros_(layer.bias)

    def forward(self, g: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Updated global node ``(n_batch, width)`` from ``g`` ``(n_batch, width)`` and ``features`` ``(n_batch, n_features)``."""
        finite = torch.isfinite(features)
        x = self.norm(torch.where(finite, features, torch.zeros_like(features)))
        embedded = [layer(part) for layer, part in zip(self.embed, x.split(self.sizes, dim=1), strict=True)]
        present = [part.any(dim=1) for part in finite.split(self.sizes, dim=1)]
        nodes = torch.stack([g, *embedded], dim=1)
        mask = torch.stack([torch.ones_like(present[0]), *present], dim=1).to(g.dtype)
        adjacency = self.adjacency * mask[:, :, None] * mask[:, None, :]
        # Only the global node is read out, so only its row of A_b H is computed.
        return g + (adjacency[:, :1] @ nodes)[:, 0]


def check_peripheral(
    model: nn.Module, fusion: PeripheralFusion | None, x: torch.Tensor, peripheral: torch.Tensor | None
) -> None:
    """Check a model's peripheral input: ``(n_batch, fusion.n_features)`` with peripheral nodes, None without.

    Raises
    ------
    DataError
        The input is missing, superfluous or of the wrong shape (the message names the expected shape).
    """
    name = type(model).__name__
    if fusion is None:
        if peripheral is not None:
            raise DataError(f"{name} has no peripheral nodes but got peripheral features {tuple(peripheral.shape)}")
        return
    expected = (len(x), fusion.n_features)
    if peripheral is None:
        raise DataError(f"{name} has peripheral nodes and needs peripheral features (batch={expected[0]}, feature={expected[1]})")
    if tuple(peripheral.shape) != expected:
        raise DataError(
            f"{name} expects peripheral features (batch={expected[0]}, feature={expected[1]}); got shape {tuple(peripheral.shape)}"
        )
