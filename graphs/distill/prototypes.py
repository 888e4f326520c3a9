"""The frozen 5 x 5 valence x arousal prototype grid: building, filling, saving, validated loading.

Building (:func:`build_grid`)
-----------------------------
1. Ratings are binned to 5 levels per axis by :func:`rating_levels`: equal-
   width bins over the rating scale, left-closed, the last one closed. On
   DREAMER's integer 1-5 SAM scale the level is ``rating - 1``; on DEAP's 1-9
   scale the edges are 1, 2.6, 4.2, 5.8, 7.4, 9, so the integer ratings
   1-2 / 3-4 / 5 / 6-7 / 8-9 give levels 0 / 1 / 2 / 3 / 4 (continuous
   ratings fall in the bin containing them).
2. Each embedding ``(embed_dim,)`` is L2-normalised, then the unit embeddings
   of a cell are averaged. The average is stored as is (not re-normalised):
   its length, between 0 and 1, says how consistent the cell's embeddings
   are; the losses normalise it.
3. Empty cells are filled from their neighbours in passes: in each pass, every
   empty cell with at least one known cell among its 8 neighbours (known
   before the pass) gets the unweighted mean of those neighbours. ``filled``
   marks them and ``fill_pass`` says in which pass (0 for observed cells), so
   a filled cell never counts as data.

Artefact (:func:`save_grid`, :func:`load_grid`)
-----------------------------------------------
``<name>.npz`` holds ``prototypes`` ``(5, 5, embed_dim)`` float32 (rows:
valence level, columns: arousal level), ``counts`` ``(5, 5)`` int64 and
``fill_pass`` ``(5, 5)`` int64; ``<name>.json`` holds the metadata:
``format_version`` (:data:`FORMAT_VERSION`), ``grid_shape``, ``embed_dim``,
``teacher_config_hash``, ``dataset``, ``bins`` (scale, edges, rule),
``counts``, ``filled``, ``created_utc`` and free ``extra``. Loading reads the
arrays with ``np.load(allow_pickle=False)`` and checks shapes, dtypes,
finiteness and that both files agree; every failure is a
:class:`~biosig.errors.DataError` naming the file and the field.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biosig.errors import DataError

from .circumplex import GRID_LEVELS

#: Version of the ``.npz`` + JSON layout; :func:`load_grid` reads only this one.
FORMAT_VERSION = 1

_ARRAYS = ("prototypes", "counts", "fill_pass")


@dataclass(frozen=True)
class PrototypeGrid:
    """The 5 x 5 grid of teacher prototypes.

    Attributes
    ----------
    prototypes
        ``(5, 5, embed_dim)`` float32, ``[valence level, arousal level]``:
        mean of the cell's unit-norm teacher embeddings, or for filled cells
        the mean of their neighbours (module docstring).
    counts
        ``(5, 5)`` int64 held-out windows per cell.
    fill_pass
        ``(5, 5)`` int64: 0 for observed cells, ``k`` for cells filled in pass ``k``.
    metadata
        The JSON metadata (module docstring).
    """

    prototypes: np.ndarray
    counts: np.ndarray
    fill_pass: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def filled(self) -> np.ndarray:
        """``(5, 5)`` bool: cells filled from neighbours (no held-out window)."""
        return self.fill_pass > 0

    @property
    def embed_dim(self) -> int:
        """Size of each prototype."""
        return int(self.prototypes.shape[-1])

    def unit(self, center: bool = False) -> np.ndarray:
        """Prototypes as unit vectors ``(25, embed_dim)`` float32, row ``valence * 5 + arousal``.

        Parameters
        ----------
        center
            Subtract the mean of the observed cells' prototypes first. The
            teacher's embeddings come after a ReLU and an average pool, so
            they are non-negative and share one large common direction
            (pairwise cosines near 1); centring keeps only how the cells
            differ, which is what a student can align to.
        """
        p = self.prototypes.reshape(-1, self.embed_dim).astype(np.float64)
        if center:
            p = p - p[(self.counts > 0).ravel()].mean(axis=0)
        norms = np.linalg.norm(p, axis=1, keepdims=True)
        if (norms < 1e-12).any():
            raise DataError("prototype grid: a prototype has zero length (after centring)")
        return (p / norms).astype(np.float32)


def rating_edges(scale: tuple[float, float], n_levels: int = GRID_LEVELS) -> np.ndarray:
    """Bin edges ``(n_levels + 1,)`` of equal-width bins over the rating ``scale`` ``(low, high)``."""
    low, high = float(scale[0]), float(scale[1])
    if not high > low:
        raise DataError(f"rating scale {scale}: the high end must exceed the low end")
    return np.linspace(low, high, n_levels + 1)


def rating_levels(
    ratings: np.ndarray, scale: tuple[float, float], n_levels: int = GRID_LEVELS, name: str = "rating"
) -> np.ndarray:
    """Level ``0..n_levels-1`` of each rating, ``(n,)`` int64 (bins as in the module docstring).

    Raises
    ------
    DataError
        A rating is NaN or outside the scale (``name`` and the values are in the message).
    """
    r = np.asarray(ratings, dtype=float)
    low, high = float(scale[0]), float(scale[1])
    width = (high - low) / n_levels
    if not width > 0:
        raise DataError(f"rating scale {scale}: the high end must exceed the low end")
    bad = ~np.isfinite(r) | (r < low) | (r > high)
    if bad.any():
        raise DataError(
            f"{name}: ratings {sorted(set(r[bad].tolist()))[:5]} are NaN or outside the scale {low:g}-{high:g}"
        )
    # 1e-9 keeps ratings that sit on an edge (2.6 on 1-9) in the upper bin despite rounding
    return np.minimum(np.floor((r - low) / width + 1e-9), n_levels - 1).astype(np.int64)


def build_grid(
    embeddings: np.ndarray,
    valence: np.ndarray,
    arousal: np.ndarray,
    scale: tuple[float, float],
    *,
    teacher_config_hash: str,
    dataset: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> PrototypeGrid:
    """Average unit teacher embeddings per valence x arousal cell and fill empty cells.

    Parameters
    ----------
    embeddings
        ``(n_windows, embed_dim)`` teacher embeddings of held-out windows (normalised here).
    valence, arousal
        ``(n_windows,)`` ratings on ``scale``.
    scale
        ``(low, high)`` of the rating scale, e.g. ``(1, 5)`` or ``(1, 9)``.
    teacher_config_hash, dataset, extra
        Metadata recorded with the grid.

    Raises
    ------
    DataError
        Shapes disagree, embeddings are not finite or a zero vector, or no window at all.
    """
    z = np.asarray(embeddings, dtype=np.float64)
    if z.ndim != 2 or len(z) != len(valence) or len(z) != len(arousal):
        raise DataError(
            f"prototype grid: embeddings {z.shape}, valence {np.shape(valence)} and arousal {np.shape(arousal)} "
            "must be (n, embed_dim), (n,), (n,)"
        )
    if not len(z):
        raise DataError("prototype grid: no held-out window to build prototypes from")
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    if not np.isfinite(z).all() or (norms < 1e-12).any():
        raise DataError("prototype grid: embeddings must be finite and non-zero")
    z = z / norms
    v = rating_levels(valence, scale, name="valence")
    a = rating_levels(arousal, scale, name="arousal")
    flat = v * GRID_LEVELS + a
    n_cells = GRID_LEVELS * GRID_LEVELS
    counts = np.bincount(flat, minlength=n_cells)
    sums = np.zeros((n_cells, z.shape[1]))
    np.add.at(sums, flat, z)
    shape = (GRID_LEVELS, GRID_LEVELS)
    means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.0).reshape(*shape, -1)
    prototypes, fill_pass = fill_empty_cells(means, counts.reshape(shape) > 0)
    edges = rating_edges(scale)
    metadata = {
        "format_version": FORMAT_VERSION,
        "grid_shape": list(shape),
        "embed_dim": int(z.shape[1]),
        "axes": {"rows": "valence level 0..4 (low to high)", "columns": "arousal level 0..4 (low to high)"},
        "teacher_config_hash": teacher_config_hash,
        "dataset": dataset,
        "bins": {
            "scale": [float(scale[0]), float(scale[1])],
            "edges": [round(float(e), 10) for e in edges],
            "rule": "equal-width bins over the scale, left-closed, last bin closed",
        },
        "counts": counts.reshape(shape).tolist(),
        "filled": (fill_pass > 0).tolist(),
        "n_windows": int(len(z)),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "extra": extra or {},
    }
    return PrototypeGrid(prototypes.astype(np.float32), counts.reshape(shape).astype(np.int64), fill_pass, metadata)


def fill_empty_cells(prototypes: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill unknown cells with the mean of their known 8-neighbours, pass by pass.

    Parameters
    ----------
    prototypes
        ``(rows, cols, dim)``; values of unknown cells are ignored.
    known
        ``(rows, cols)`` bool, cells with data.

    Returns
    -------
    filled, fill_pass
        The completed grid ``(rows, cols, dim)`` float64 and ``(rows, cols)``
        int64 pass numbers (0 for known cells).

    Raises
    ------
    DataError
        No cell is known.
    """
    known = np.asarray(known, dtype=bool)
    if not known.any():
        raise DataError("prototype grid: every cell is empty; nothing to fill from")
    out = np.where(known[..., None], prototypes, 0.0).astype(np.float64)
    fill_pass = np.zeros(known.shape, dtype=np.int64)
    done = known.copy()
    rows, cols = known.shape
    step = 0
    while not done.all():
        step += 1
        before, values = done.copy(), out.copy()
        for r, c in zip(*np.nonzero(~before), strict=True):
            r0, r1, c0, c1 = max(r - 1, 0), min(r + 2, rows), max(c - 1, 0), min(c + 2, cols)
            neighbours = before[r0:r1, c0:c1]
            if neighbours.any():
                out[r, c] = values[r0:r1, c0:c1][neighbours].mean(axis=0)
                fill_pass[r, c] = step
                done[r, c] = True
    return out, fill_pass


def grid_paths(path: str | Path) -> tuple[Path, Path]:
    """The ``.npz`` and ``.json`` files of a grid artefact named by either (or by its stem)."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".npz", ".json") else path
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def save_grid(grid: PrototypeGrid, path: str | Path) -> tuple[Path, Path]:
    """Write the grid as ``<stem>.npz`` (arrays, no pickles) + ``<stem>.json`` (metadata); returns both paths."""
    npz, meta = grid_paths(path)
    npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez(npz, prototypes=grid.prototypes, counts=grid.counts, fill_pass=grid.fill_pass)
    meta.write_text(json.dumps(grid.metadata, indent=2) + "\n", encoding="utf-8")
    return npz, meta


def load_grid(
    path: str | Path, *, embed_dim: int | None = None, teacher_config_hash: str | None = None
) -> PrototypeGrid:
    """Read and validate a grid artefact written by :func:`save_grid`.

    Parameters
    ----------
    path
        The ``.npz`` or ``.json`` file, or their common stem.
    embed_dim
        When given, the prototypes must have this size (the student's projection).
    teacher_config_hash
        When given, the grid must come from this teacher configuration.

    Raises
    ------
    DataError
        Missing or unreadable file, pickled objects, wrong format version,
        shapes or dtypes, non-finite values, metadata disagreeing with the
        arrays or with the expectations above (the message names the field).
    """
    npz, meta_path = grid_paths(path)
    for p in (npz, meta_path):
        if not p.is_file():
            raise DataError(f"prototype grid: {p} does not exist (a grid is a .npz with a .json beside it)")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"prototype grid: {meta_path} is not readable JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise DataError(f"prototype grid: {meta_path} must hold a JSON object")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(f"prototype grid: {meta_path} has format_version {version!r}; this code reads {FORMAT_VERSION}")
    try:
        with np.load(npz, allow_pickle=False) as blob:
            missing = [k for k in _ARRAYS if k not in blob.files]
            if missing:
                raise DataError(f"prototype grid: {npz} lacks arrays {missing}; it has {blob.files}")
            arrays = {k: blob[k] for k in _ARRAYS}
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: object arrays (pickles) or not an npz
        raise DataError(f"prototype grid: {npz} cannot be read without unpickling or is not an .npz: {exc}") from None
    shape = (GRID_LEVELS, GRID_LEVELS)
    protos, counts, fill_pass = arrays["prototypes"], arrays["counts"], arrays["fill_pass"]
    if protos.ndim != 3 or protos.shape[:2] != shape or protos.shape[2] < 1 or protos.dtype.kind != "f":
        raise DataError(
            f"prototype grid: {npz} 'prototypes' must be float (5, 5, embed_dim), got {protos.dtype} {protos.shape}"
        )
    for name, arr in (("counts", counts), ("fill_pass", fill_pass)):
        if arr.shape != shape or arr.dtype.kind not in "iu" or (arr < 0).any():
            raise DataError(
                f"prototype grid: {npz} '{name}' must be non-negative integers (5, 5), got {arr.dtype} {arr.shape}"
            )
    if not np.isfinite(protos).all():
        raise DataError(f"prototype grid: {npz} 'prototypes' has NaN or infinite values")
    if ((counts > 0) != (fill_pass == 0)).any():
        raise DataError(f"prototype grid: {npz} cells with windows must have fill_pass 0 and empty cells fill_pass > 0")
    lengths = np.linalg.norm(protos, axis=2)
    if (lengths < 1e-12).any() or (lengths > 1 + 1e-4).any():
        raise DataError(f"prototype grid: {npz} prototypes must be means of unit vectors (0 < length <= 1)")
    if metadata.get("grid_shape") != list(shape):
        raise DataError(f"prototype grid: {meta_path} grid_shape {metadata.get('grid_shape')!r} is not {list(shape)}")
    if metadata.get("embed_dim") != protos.shape[2]:
        raise DataError(
            f"prototype grid: {meta_path} embed_dim {metadata.get('embed_dim')!r} != {protos.shape[2]} in {npz}"
        )
    if metadata.get("counts") != counts.tolist():
        raise DataError(f"prototype grid: {meta_path} 'counts' disagree with {npz}; the files are not a pair")
    if metadata.get("filled") != (fill_pass > 0).tolist():
        raise DataError(f"prototype grid: {meta_path} 'filled' disagrees with {npz}; the files are not a pair")
    if embed_dim is not None and protos.shape[2] != embed_dim:
        raise DataError(f"prototype grid: {npz} has embed_dim {protos.shape[2]}, but {embed_dim} is needed")
    if teacher_config_hash is not None and metadata.get("teacher_config_hash") != teacher_config_hash:
        raise DataError(
            f"prototype grid: {meta_path} teacher_config_hash {metadata.get('teacher_config_hash')!r} differs "
            f"from the configured teacher's {teacher_config_hash!r}"
        )
    return PrototypeGrid(protos.astype(np.float32), counts.astype(np.int64), fill_pass.astype(np.int64), metadata)
