"""Sparse electrode grids: each channel in one cell of a ``size x size`` image, as in 2-D CNN inputs.

Row 0 is the front of the head (nose), column 0 the left side, so grids and
interpolated topomaps (:mod:`graphs.topomap`) share one orientation.

Two sources of the channel -> cell map:

* the **published 9 x 9 layout** of 10-10 sites (:data:`TENTEN_9X9`), the one
  TorchEEG uses for SEED (``SEED_LOCATION_LIST``) and, restricted to their
  channels, for DEAP and DREAMER (DREAMER: AF3 (1,3), AF4 (1,5), F7 (2,0),
  F3 (2,2), F4 (2,6), F8 (2,8), FC5 (3,1), FC6 (3,7), T7 (4,0), T8 (4,8),
  P7 (6,0), P8 (6,8), O1 (8,3), O2 (8,5); HiSTN's ``Embed_DREAMER`` is the
  same). It follows the sites' names (row = 10-10 row, column = position in
  that row), which geometry cannot reproduce: on the projected template
  positions F7 lies nearer to column 1 than 0, for instance;
* a **geometric assignment** for any other montage or size
  (:func:`grid_from_positions`): the 2-D topomap positions are scaled so their
  bounding box spans the grid, and channels go to distinct cells minimising
  the total squared distance from each channel to its cell's centre
  (Hungarian assignment, :func:`scipy.optimize.linear_sum_assignment`). Where
  rounding to the nearest cell gives no collision this is that rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import mne
import numpy as np
from scipy.optimize import linear_sum_assignment

from biosig.errors import ConfigError, DataError
from graphs.positions import TEMPLATE, canonical_name, projected_positions

#: The 9 x 9 layout of 62 10-10 sites (SEED's cap), row 0 anterior, column 0 left; ``-`` is an empty cell.
TENTEN_9X9: tuple[str, ...] = (
    "-   -   -   FP1 FPZ FP2 -   -   -",
    "-   -   -   AF3 -   AF4 -   -   -",
    "F7  F5  F3  F1  FZ  F2  F4  F6  F8",
    "FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8",
    "T7  C5  C3  C1  CZ  C2  C4  C6  T8",
    "TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8",
    "P7  P5  P3  P1  PZ  P2  P4  P6  P8",
    "-   PO7 PO5 PO3 POZ PO4 PO6 PO8 -",
    "-   -   CB1 O1  OZ  O2  CB2 -   -",
)

_TENTEN_CELLS: dict[str, tuple[int, int]] = {
    canonical_name(ch): (r, c) for r, row in enumerate(TENTEN_9X9) for c, ch in enumerate(row.split()) if ch != "-"
}


def preset_grid(ch_names: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Cells of the published 9 x 9 layout (:data:`TENTEN_9X9`), keyed by the given names in their order.

    Raises
    ------
    DataError
        A channel is not one of the layout's 62 sites.
    """
    missing = [ch for ch in ch_names if canonical_name(ch) not in _TENTEN_CELLS]
    if missing:
        raise DataError(f"channels {missing} are not in the published 9x9 10-10 grid layout")
    return {ch: _TENTEN_CELLS[canonical_name(ch)] for ch in ch_names}


def grid_from_positions(positions: np.ndarray, size: int) -> np.ndarray:
    """Distinct grid cells for 2-D positions, geometric assignment (see module docstring).

    Parameters
    ----------
    positions
        Topomap positions ``(n_channels, 2)``: x to the right, y to the front (any unit).
    size
        Grid side; needs ``size * size >= n_channels``.

    Returns
    -------
    np.ndarray
        ``(n_channels, 2)`` integer ``(row, col)``; row 0 is the largest y, column 0 the smallest x.
    """
    positions = np.asarray(positions, float)
    n = len(positions)
    if positions.ndim != 2 or positions.shape[1] != 2 or n == 0:
        raise DataError(f"positions must have shape (n_channels, 2), got {positions.shape}")
    if size * size < n:
        raise ConfigError(f"grid size {size} has {size * size} cells, fewer than the {n} channels")
    lo, span = positions.min(axis=0), np.ptp(positions, axis=0)
    unit = (positions - lo) / np.where(span > 0, span, 1.0)
    target = np.c_[1.0 - unit[:, 1], unit[:, 0]] * (size - 1)
    cells = np.indices((size, size)).reshape(2, -1).T
    cost = ((target[:, None, :] - cells[None, :, :]) ** 2).sum(-1)
    _, chosen = linear_sum_assignment(cost)
    return cells[chosen]


def electrode_grid(
    ch_names: Sequence[str],
    size: int = 9,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    method: Literal["auto", "preset", "geometric"] = "auto",
    extra_positions: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Map channels to cells of a ``size x size`` grid.

    Parameters
    ----------
    ch_names
        Channel names (case-insensitive, see :func:`graphs.positions.canonical_name`).
    size
        Grid side.
    montage, extra_positions
        Where the positions of the geometric assignment come from (:func:`graphs.positions.electrode_positions`).
    method
        ``"preset"``: the published 9 x 9 layout (:func:`preset_grid`, needs ``size == 9``);
        ``"geometric"``: :func:`grid_from_positions` on the projected positions;
        ``"auto"``: the preset when ``size == 9`` and every channel is one of its sites
        (DREAMER, DEAP, SEED), the geometric assignment otherwise.

    Returns
    -------
    dict
        ``channel: (row, col)`` in the order of ``ch_names``; the order :func:`to_grid` expects.
    """
    if method not in ("auto", "preset", "geometric"):
        raise ConfigError(f"grid method {method!r} is unknown; use 'auto', 'preset' or 'geometric'")
    in_preset = all(canonical_name(ch) in _TENTEN_CELLS for ch in ch_names)
    if method == "preset" or (method == "auto" and size == 9 and in_preset):
        if size != 9:
            raise ConfigError(f"the published grid layout is 9x9; size {size} needs method='geometric'")
        return preset_grid(ch_names)
    cells = grid_from_positions(projected_positions(ch_names, montage, extra_positions), size)
    return {ch: (int(r), int(c)) for ch, (r, c) in zip(ch_names, cells)}


def to_grid(values: np.ndarray, mapping: Mapping[str, tuple[int, int]], size: int = 9) -> np.ndarray:
    """Scatter per-channel values into grids; empty cells are 0.

    Parameters
    ----------
    values
        Shape ``(..., n_channels)``; the channel axis follows ``mapping``'s order.
    mapping
        ``channel: (row, col)``, e.g. from :func:`electrode_grid`.
    size
        Grid side.

    Returns
    -------
    np.ndarray
        Shape ``(..., size, size)``, the dtype of ``values``.
    """
    values = np.asarray(values)
    cells = np.array(list(mapping.values()), dtype=int).reshape(-1, 2)
    if values.ndim == 0 or values.shape[-1] != len(cells):
        raise DataError(f"values have shape {values.shape}; the last axis must be the {len(cells)} mapped channels")
    if len(cells) and (cells.min() < 0 or cells.max() >= size):
        raise ConfigError(f"grid mapping has cells outside a {size}x{size} grid")
    flat = cells[:, 0] * size + cells[:, 1]
    if len(np.unique(flat)) != len(flat):
        raise ConfigError("grid mapping puts two channels in one cell")
    out = np.zeros((*values.shape[:-1], size * size), dtype=values.dtype)
    out[..., flat] = values
    return out.reshape(*values.shape[:-1], size, size)
