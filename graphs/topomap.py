"""Interpolated scalp images (topomaps) for a whole batch with one matrix product.

MNE draws a topomap by adding extra points around the electrodes (a circle
outside the head for ``extrapolate="head"``), giving each the mean of its
neighbouring electrodes (``border="mean"``), triangulating, and interpolating
on a grid: Clough-Tocher (``"cubic"``, MNE's default), linear or nearest.
Every step is linear in the channel values, so the image is ``M @ values``
for one matrix ``M`` of shape ``(size * size, n_channels)``; it is built here
once per montage by interpolating all unit vectors at once, using MNE's own
set-up (:func:`mne.viz.topomap._setup_interp`: grid, extra points,
triangulation) and the SciPy interpolator MNE uses. MNE's per-call interpolator
cannot be reused for this: it would re-triangulate and re-estimate gradients
for every map.

Images are ``(size, size)`` with row 0 at the front of the head (nose) and
column 0 at the left, as in :mod:`graphs.grid`; MNE's image array
(``plot_topomap(...)[0].get_array()``) is the same image upside down, since
matplotlib draws it with ``origin="lower"``. Pixels outside the head (the
circle MNE clips the picture to, or for ``extrapolate="local"`` the polygon
around the electrodes) are 0 and ``False`` in :attr:`TopomapInterpolator.mask`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import mne
import numpy as np
from matplotlib.path import Path
from mne.viz.topomap import _make_head_outlines, _setup_interp

from biosig.errors import ConfigError, DataError
from graphs.positions import TEMPLATE, montage_sphere, projected_positions

Interp = Literal["cubic", "linear", "nearest"]
Extrapolate = Literal["head", "local", "box"]


@dataclass(frozen=True)
class TopomapInterpolator:
    """A montage's topomap interpolation as one matrix.

    Attributes
    ----------
    ch_names
        Channels, in the order of the values' channel axis.
    matrix
        ``(size * size, n_channels)``; row ``r * size + c`` gives pixel ``(r, c)``; rows outside the head are 0.
    mask
        ``(size, size)`` bool, ``True`` inside the head.
    extent
        ``(xmin, xmax, ymin, ymax)`` of the pixel centres, metres in the topomap plane.
    """

    ch_names: tuple[str, ...]
    matrix: np.ndarray
    mask: np.ndarray
    extent: tuple[float, float, float, float]

    @property
    def size(self) -> int:
        """Image side in pixels."""
        return self.mask.shape[0]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Images of per-channel values.

        Parameters
        ----------
        values
            Shape ``(..., n_channels, n_features)``, e.g. ``(n_windows, n_channels, n_bands)``.

        Returns
        -------
        np.ndarray
            Shape ``(..., n_features, size, size)``, float64; 0 outside the head.
        """
        values = np.asarray(values, float)
        if values.ndim < 2 or values.shape[-2] != len(self.ch_names):
            raise DataError(
                f"values have shape {values.shape}; expected (..., {len(self.ch_names)} channels, n_features)"
            )
        # one BLAS product; np.einsum here runs unoptimised and is about 25x slower
        images = np.swapaxes(values, -1, -2) @ self.matrix.T
        return images.reshape(*images.shape[:-1], self.size, self.size)


def interpolation_matrix(
    positions: np.ndarray,
    size: int = 32,
    head_radius: float = 0.095,
    image_interp: Interp = "cubic",
    extrapolate: Extrapolate = "head",
    border: Literal["mean"] | float = "mean",
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """MNE's topomap interpolation of 2-D positions as a matrix.

    Parameters
    ----------
    positions
        Topomap positions ``(n_channels, 2)``, metres, head centre at the origin
        (:func:`graphs.positions.projected_positions`).
    size
        Image side in pixels (MNE's ``res``).
    head_radius
        Radius of the head circle, metres (the sphere radius).
    image_interp, extrapolate
        As in :func:`mne.viz.plot_topomap`.
    border
        Value at the extra points: ``"mean"`` of the neighbouring electrodes (MNE's
        default) or ``0``; other constants would make the map affine, not linear.

    Returns
    -------
    matrix, mask, extent
        As the attributes of :class:`TopomapInterpolator`.
    """
    pos = np.asarray(positions, float)
    if pos.ndim != 2 or pos.shape[1] != 2 or len(pos) < 3:
        raise DataError(f"positions must have shape (n_channels >= 3, 2), got {pos.shape}")
    if image_interp not in ("cubic", "linear", "nearest"):
        raise ConfigError(f"image_interp {image_interp!r} is unknown; use 'cubic', 'linear' or 'nearest'")
    if extrapolate not in ("head", "local", "box"):
        raise ConfigError(f"extrapolate {extrapolate!r} is unknown; use 'head', 'local' or 'box'")
    if border != "mean" and border != 0:
        raise ConfigError(f"border must be 'mean' or 0, got {border!r}")
    if size < 2:
        raise ConfigError(f"topomap size must be at least 2 pixels, got {size}")
    outlines = _make_head_outlines(np.array([0.0, 0.0, 0.0, head_radius]), pos, "head", (0.0, 0.0))
    extent, xi, yi, grid = _setup_interp(pos, size, image_interp, extrapolate, outlines, border)
    n = len(pos)
    values = np.vstack([np.eye(n), _border_weights(grid.tri, n, grid.n_extra, border)])
    image = grid.interp(grid.tri, values)(xi, yi)  # (size, size, n_channels), y increasing with row
    if extrapolate == "local":
        inside = Path(grid.mask_pts).contains_points(np.c_[xi.ravel(), yi.ravel()]).reshape(xi.shape)
    else:
        inside = np.hypot(xi, yi) <= outlines["clip_radius"][0]
    inside &= np.isfinite(image).all(axis=-1)
    image = np.where(inside[..., None], image, 0.0)[::-1]
    return image.reshape(size * size, n), inside[::-1].copy(), tuple(float(e) for e in extent)


def _border_weights(tri, n: int, n_extra: int, border: str | float) -> np.ndarray:
    """``(n_extra, n)`` weights giving the extra points' values, as MNE's ``_GridData.set_values``."""
    weights = np.zeros((n_extra, n))
    if border != "mean":
        return weights
    indptr, indices = tri.vertex_neighbor_vertices
    for e in range(n_extra):
        ngb = indices[indptr[n + e] : indptr[n + e + 1]]
        ngb = ngb[ngb < n]
        if len(ngb):
            weights[e, ngb] = 1.0 / len(ngb)
    used = weights.any(axis=1)
    if used.any() and not used.all():
        weights[~used] = weights[used].mean(axis=0)
    return weights


def topomap_interpolator(
    ch_names: Sequence[str],
    size: int = 32,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    image_interp: Interp = "cubic",
    extrapolate: Extrapolate = "head",
    border: Literal["mean"] | float = "mean",
    extra_positions: Mapping[str, Sequence[float]] | None = None,
) -> TopomapInterpolator:
    """Build the topomap interpolator of a channel set; build once, apply to every batch.

    Positions and head radius come from :func:`graphs.positions.projected_positions`
    and :func:`graphs.positions.montage_sphere`; other arguments as :func:`interpolation_matrix`.

    Examples
    --------
    >>> topo = topomap_interpolator(EMOTIV14, size=32)          # doctest: +SKIP
    >>> images = topo(de)   # de: (n_windows, 14, n_bands) -> (n_windows, n_bands, 32, 32)  # doctest: +SKIP
    """
    positions = projected_positions(ch_names, montage, extra_positions)
    matrix, mask, extent = interpolation_matrix(
        positions, size, float(montage_sphere(montage)[3]), image_interp, extrapolate, border
    )
    return TopomapInterpolator(tuple(ch_names), matrix, mask, extent)
