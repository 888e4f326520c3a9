"""Control prototype grids: what Proto-KD and D-Geo get without a trained EEG teacher's geometry.

The ablation (:mod:`graphs.distill.ablation`) trains the same student
variant with the EEG grid and with each control, over the same seeds, so
"the EEG teacher helps" is a comparison rather than an assumption. Every
control yields unit prototypes ``(25, D)``, row ``valence * 5 + arousal``,
the form the losses take (:meth:`graphs.distill.prototypes.PrototypeGrid.unit`).

* ``random_teacher``: the teacher's architecture with untrained weights
  (initialised from seed ``RANDOM_TEACHER_SEED + seed``, never the trained
  teacher's seed; BatchNorm at its initial statistics), the trained
  teacher's input standardisation, embedding the same held-out windows, and
  the grid built exactly as the EEG grid (:func:`~graphs.distill.prototypes.build_grid`).
  It keeps what random features of the EEG carry and drops what training
  on the ratings added.
* ``shuffled_cells``: the EEG grid's 25 unit prototypes permuted among the
  cells by ``numpy.random.default_rng(seed).permutation(25)``. The same
  vectors (same spread, same norms), but the valence/arousal layout is gone.
* ``circumplex``: no EEG at all. Each cell ``c`` (levels ``(v, a)``) gets
  the radial-basis features ``φ_j(c) = exp(-|c - c_j|^2 / (2 σ^2))`` over
  the 25 cell centres ``c_j`` (``σ`` = :data:`CIRCUMPLEX_SIGMA` levels),
  centred over the cells; its principal coordinates (:func:`numpy.linalg.svd`),
  cut or zero-padded to ``D`` dimensions and normalised, are the prototype.
  Cosines between cells then fall with their distance on the grid: the pure
  circumplex geometry. It has no randomness; only the student's seed varies.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from biosig.errors import DataError

from .circumplex import GRID_LEVELS
from .prototypes import PrototypeGrid, build_grid
from .teacher import Teacher

Control = Literal["random_teacher", "shuffled_cells", "circumplex"]
CONTROLS: tuple[Control, ...] = ("random_teacher", "shuffled_cells", "circumplex")

#: Offset of the untrained teachers' initialisation seeds (kept away from the trained teacher's).
RANDOM_TEACHER_SEED = 10_000
#: Width of the circumplex grid's radial basis, in grid levels.
CIRCUMPLEX_SIGMA = 1.0


def random_teacher_grid(
    teacher: Teacher,
    images: np.ndarray,
    valence: np.ndarray,
    arousal: np.ndarray,
    seed: int,
    dataset: dict | None = None,
) -> PrototypeGrid:
    """The grid of an untrained copy of ``teacher`` on held-out scalp maps (module docstring).

    Parameters
    ----------
    teacher
        The trained teacher: its architecture, standardisation, mask and scale are reused, its weights are not.
    images
        ``(n, n_bands, size, size)`` held-out scalp maps.
    valence, arousal
        ``(n,)`` their ratings on ``teacher.scale``.
    seed
        Ablation seed; the weights come from seed ``RANDOM_TEACHER_SEED + seed``.
    dataset
        Recorded in the grid's metadata.
    """
    from graphs.models import build_model

    model = build_model("topomap_cnn", seed=RANDOM_TEACHER_SEED + seed, **teacher.model.config.model_dump())
    untrained = Teacher(model.eval(), teacher.band_mean, teacher.band_sd, teacher.mask, teacher.scale, "untrained")  # type: ignore[arg-type]
    return build_grid(
        untrained.embed(images),
        valence,
        arousal,
        teacher.scale,
        teacher_config_hash="untrained",
        dataset=dataset or {},
        extra={"control": "random_teacher", "init_seed": RANDOM_TEACHER_SEED + seed},
    )


def shuffled_cells(prototypes: np.ndarray, seed: int) -> np.ndarray:
    """Rows of unit prototypes ``(25, D)`` permuted by ``default_rng(seed).permutation(25)`` (a copy)."""
    prototypes = np.asarray(prototypes)
    return prototypes[np.random.default_rng(seed).permutation(len(prototypes))].copy()


def circumplex_prototypes(embed_dim: int, sigma: float = CIRCUMPLEX_SIGMA) -> np.ndarray:
    """Unit prototypes ``(25, embed_dim)`` float32 of the pure circumplex geometry (module docstring).

    Raises
    ------
    DataError
        ``embed_dim`` below 2 (one dimension cannot hold a 2-D layout).
    """
    if embed_dim < 2:
        raise DataError(f"circumplex prototypes need embed_dim >= 2, got {embed_dim}")
    levels = np.arange(GRID_LEVELS * GRID_LEVELS)
    cells = np.stack([levels // GRID_LEVELS, levels % GRID_LEVELS], axis=1).astype(float)
    sq = ((cells[:, None] - cells[None]) ** 2).sum(axis=2)
    features = np.exp(-sq / (2 * sigma**2))
    features -= features.mean(axis=0)
    u, s, _ = np.linalg.svd(features)
    coords = u * s
    out = np.zeros((len(cells), embed_dim))
    k = min(embed_dim, coords.shape[1])
    out[:, :k] = coords[:, :k]
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
