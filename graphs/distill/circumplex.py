"""Expression classes on the 5 x 5 valence x arousal grid (a circumplex table).

Each expression class is placed in one cell ``(valence level, arousal
level)`` of the prototype grid, levels 0..4 from low to high (level 2 is the
neutral middle of each scale). The paper does not publish its mapping (field
notes section 2), so the default table is ours: each class sits in the
quadrant of Russell's circumplex of affect (Russell 1980, J. Pers. Soc.
Psychol. 39:1161) where it is usually drawn, and the classes keep the usual
rank order along each axis (happiness the most pleasant, sadness the
calmest, fear and surprise the most aroused). No two of FERPlus' eight
classes share a cell:

============  =========  =========  ==========================================
class         valence    arousal    reading
============  =========  =========  ==========================================
neutral       2          2          centre of both scales
happiness     4          3          very pleasant, moderately aroused
surprise      3          4          mildly pleasant, very aroused
sadness       0          1          very unpleasant, calm
anger         0          3          very unpleasant, aroused
disgust       0          2          very unpleasant, mid arousal
fear          1          4          unpleasant, very aroused
contempt      1          2          unpleasant, mid arousal
============  =========  =========  ==========================================

The table is configurable (``circumplex`` in ``configs/distill.yaml``), e.g.
for another class set (AffectNet exports, CK+).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from biosig.errors import ConfigError

#: Levels per axis of the prototype grid.
GRID_LEVELS = 5

#: FERPlus' eight classes in the order of its vote columns (``fer2013new.csv``).
FERPLUS_CLASSES: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)

#: Default class -> (valence level, arousal level) table (module docstring).
CIRCUMPLEX: dict[str, tuple[int, int]] = {
    "neutral": (2, 2),
    "happiness": (4, 3),
    "surprise": (3, 4),
    "sadness": (0, 1),
    "anger": (0, 3),
    "disgust": (0, 2),
    "fear": (1, 4),
    "contempt": (1, 2),
}


def class_cells(classes: Sequence[str], table: Mapping[str, Sequence[int]] = CIRCUMPLEX) -> np.ndarray:
    """Grid cell of every class, ``(n_classes, 2)`` int64 ``[valence level, arousal level]``.

    Raises
    ------
    ConfigError
        A class missing from the table, or a level outside ``0..GRID_LEVELS-1``.
    """
    missing = [c for c in classes if c not in table]
    if missing:
        raise ConfigError(f"circumplex: classes {missing} have no (valence, arousal) cell; table has {sorted(table)}")
    cells = np.asarray([tuple(table[c]) for c in classes], dtype=np.int64).reshape(len(classes), -1)
    if cells.shape[1] != 2:
        raise ConfigError("circumplex: every cell must be a pair [valence level, arousal level]")
    bad = [c for c, cell in zip(classes, cells, strict=True) if cell.min() < 0 or cell.max() >= GRID_LEVELS]
    if bad:
        raise ConfigError(f"circumplex: cells of {bad} are outside levels 0..{GRID_LEVELS - 1}")
    return cells


def cell_index(cells: np.ndarray) -> np.ndarray:
    """Flat index ``valence * GRID_LEVELS + arousal`` of cells ``(n, 2)``, ``(n,)`` int64."""
    cells = np.asarray(cells, dtype=np.int64)
    return cells[:, 0] * GRID_LEVELS + cells[:, 1]


def level_coordinates(cells: np.ndarray) -> np.ndarray:
    """Cells ``(n, 2)`` as valence/arousal coordinates in ``[-1, 1]``: ``(level - 2) / 2``, float64."""
    half = (GRID_LEVELS - 1) / 2
    return (np.asarray(cells, dtype=float) - half) / half
