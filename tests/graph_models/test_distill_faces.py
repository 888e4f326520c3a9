"""Synthetic faces: seeded, shaped like FER2013, features follow the expression actions; both expression models."""

from __future__ import annotations

import numpy as np
import pytest

from biosig.errors import ConfigError
from graphs.distill.circumplex import CIRCUMPLEX, FERPLUS_CLASSES, cell_index, class_cells, level_coordinates
from graphs.distill.faces import (
    ACTIONS,
    ExpressionModel,
    FaceStyle,
    class_actions,
    draw_actions,
    draw_faces,
    synthetic_faces,
)

CLEAN = FaceStyle(noise=(0.0, 0.0), contrast=(1.0, 1.0), max_shift=0.0, max_tilt_deg=0.0)


def test_circumplex_table() -> None:
    cells = class_cells(FERPLUS_CLASSES)
    assert len(set(cell_index(cells).tolist())) == 8  # one cell per class
    happiness, sadness = cells[1], cells[3]
    assert happiness[0] == 4 and sadness[0] == 0 and sadness[1] < happiness[1]
    np.testing.assert_allclose(level_coordinates(np.array([[0, 4], [2, 2]])), [[-1.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ConfigError, match=r"classes \['joy'\] have no"):
        class_cells(["joy"], CIRCUMPLEX)
    with pytest.raises(ConfigError, match="outside levels"):
        class_cells(["neutral"], {"neutral": (5, 0)})


def test_faces_are_seeded_grey_48x48() -> None:
    a, ya = synthetic_faces(3, FERPLUS_CLASSES, seed=1)
    b, yb = synthetic_faces(3, FERPLUS_CLASSES, seed=1)
    c, _ = synthetic_faces(3, FERPLUS_CLASSES, seed=2)
    assert a.shape == (24, 48, 48) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert np.bincount(ya).tolist() == [3] * 8
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 10
    assert a.std() > 30  # faces on backgrounds, not blank images


def _pair(v: tuple[float, float], a: tuple[float, float], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The same identity (same draws) with two expressions."""
    first = draw_faces(np.array([v[0]]), np.array([a[0]]), np.zeros(1), np.random.default_rng(seed), CLEAN)[0]
    second = draw_faces(np.array([v[1]]), np.array([a[1]]), np.zeros(1), np.random.default_rng(seed), CLEAN)[0]
    return first.astype(int), second.astype(int)


def _mouth_row(image: np.ndarray, column: int) -> int:
    """Darkest row of a column between the nose and the chin (rows 28-40 hold the mouth, never the background)."""
    return 28 + int(np.argmin(image[28:41, column]))


@pytest.mark.parametrize("seed", range(4))
def test_mouth_curvature_follows_valence(seed: int) -> None:
    happy, sad = _pair((1.0, -1.0), (0.0, 0.0), seed)
    # rows grow downwards: a smile has its middle below its corners, a frown above
    for image, sign in ((happy, 1), (sad, -1)):
        middle = _mouth_row(image, 24)
        corners = (_mouth_row(image, 20) + _mouth_row(image, 28)) / 2
        assert sign * (middle - corners) >= 1


@pytest.mark.parametrize("seed", range(4))
def test_eyes_and_mouth_open_with_arousal(seed: int) -> None:
    calm, aroused = _pair((0.0, 0.0), (-1.0, 1.0), seed)
    darker_when_aroused = int((aroused < calm - 30).sum())
    darker_when_calm = int((calm < aroused - 30).sum())
    assert darker_when_aroused > darker_when_calm + 15


def test_class_subset_and_bad_size() -> None:
    _, labels = synthetic_faces(2, ("happiness", "fear"), seed=0)
    assert sorted(labels.tolist()) == [0, 0, 1, 1]
    with pytest.raises(ConfigError, match="n_per_class"):
        synthetic_faces(0, FERPLUS_CLASSES)


def test_independent_expression_model_does_not_read_the_circumplex_table() -> None:
    model = ExpressionModel(model="independent", seed=11, min_distance=0.7)
    a = class_actions(FERPLUS_CLASSES, CIRCUMPLEX, model)
    np.testing.assert_array_equal(a, class_actions(FERPLUS_CLASSES, {}, model))  # no table needed
    assert a.shape == (8, len(ACTIONS)) and np.abs(a).max() <= 1.0
    gaps = np.linalg.norm(a[:, None] - a[None], axis=2)[np.triu_indices(8, 1)]
    assert gaps.min() >= 0.7
    assert not np.allclose(a, class_actions(FERPLUS_CLASSES, CIRCUMPLEX, ExpressionModel(model="independent", seed=12)))
    # the circumplex model: (v, a, a, a, v) of each class's cell
    c = class_actions(FERPLUS_CLASSES, CIRCUMPLEX, ExpressionModel(model="circumplex"))
    np.testing.assert_allclose(c[:, [0, 1]], level_coordinates(class_cells(FERPLUS_CLASSES)))
    np.testing.assert_array_equal(c[:, 1], c[:, 3])
    with pytest.raises(ConfigError, match="min_distance"):
        class_actions([f"c{k}" for k in range(12)], {}, ExpressionModel(min_distance=1.5))


def test_independent_faces_are_seeded_and_differ_from_circumplex_faces() -> None:
    model = ExpressionModel()
    a, ya = synthetic_faces(3, FERPLUS_CLASSES, seed=1, expression=model)
    b, _ = synthetic_faces(3, FERPLUS_CLASSES, seed=1, expression=model)
    c, yc = synthetic_faces(3, FERPLUS_CLASSES, seed=1)  # circumplex: the default of this function
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yc)  # same label draw, other expressions
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 1
    # draw_faces is draw_actions with (v, a, a, a, v)
    v, ar = np.array([0.5, -0.3]), np.array([0.2, 0.9])
    np.testing.assert_array_equal(
        draw_faces(v, ar, np.zeros(2), np.random.default_rng(0), CLEAN),
        draw_actions(np.stack([v, ar, ar, ar, v], axis=1), np.zeros(2), np.random.default_rng(0), CLEAN),
    )
