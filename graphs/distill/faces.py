"""Embedded synthetic face set: procedurally drawn 48 x 48 grey faces whose features follow an expression model.

Each face is drawn analytically (signed distances with a 1-pixel soft edge,
so shapes are anti-aliased) from five expression parameters (``actions``,
about ``[-1, 1]``: :data:`ACTIONS`) and an identity.

*Actions -> features* (:func:`draw_actions`):

* ``smile``: the mouth corners rise by ``3 smile`` px relative to the middle
  (a smile for ``smile > 0``, a frown for ``smile < 0``);
* ``mouth_open``: ``2.8 * max(mouth_open + 0.2, 0)`` px between the lips;
* ``eye_open``: eye half-height ``0.9 + 0.9 eye_open`` px (clipped to 0.25-2.2);
* ``brow_raise``: brows raised by ``1.5 brow_raise`` px;
* ``brow_frown``: the brows' inner ends drop by ``-1.4 brow_frown`` px
  (slanted, frowning brows for negative values);
* classes in :data:`ASYMMETRY` (contempt) raise one mouth corner only,
  FACS' unilateral lip-corner pull; every face gets a little random asymmetry.

*Expression models: class -> actions* (:func:`class_actions`, ``expression.model``):

* ``circumplex``: the class's circumplex cell (:mod:`.circumplex`) gives
  ``(v, a)`` in ``[-1, 1]`` (level 0..4 -> ``(level - 2) / 2``) and the
  actions are ``(v, a, a, a, v)``. The faces' geometry is then the grid's
  geometry by construction: the same table places a class's prototype cell
  and draws its faces, so a grid-shaped target is "right" for these faces
  whatever the EEG says. Kept for comparison (:func:`draw_faces` draws it).
* ``independent``: each class gets its own action vector drawn uniformly in
  ``[-1, 1]^5`` by ``numpy.random.default_rng(expression.seed)``, redrawn
  until every two classes are at least ``expression.min_distance`` apart
  (Euclidean, in action units); the circumplex table is not read. The
  classes' similarity structure is thus unrelated to the grid's, so
  prototypes can only help through what they carry, not by construction.

Per face, the class's actions are scaled by an intensity drawn from
``style.intensity`` (weak expressions drift towards neutral) and Gaussian
jitter of sd ``style.expression_jitter`` is added (circumplex: per valence
and arousal axis; independent: per action), so neighbouring classes overlap
and the task is not trivial.

*Identity and picture.* Face position (± ``style.max_shift`` px), size
(half-axes 14-18 x 17-21 px), tilt (± ``style.max_tilt_deg``), eye spacing,
eye, brow and mouth size and height, skin and background grey levels,
background and lighting gradients, global contrast (``style.contrast``) and
brightness, and white pixel noise of sd drawn from ``style.noise``.

Every per-face random draw comes from ``numpy.random.default_rng(seed)``:
the same seed (and expression model) gives the same images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from biosig.errors import ConfigError

from .circumplex import CIRCUMPLEX, class_cells, level_coordinates

SIZE = 48

#: Mouth-corner asymmetry (fraction of the full one-sided raise) of classes with a one-sided expression.
ASYMMETRY: dict[str, float] = {"contempt": 1.0}

#: Expression parameters of the face model, in order (module docstring).
ACTIONS: tuple[str, ...] = ("smile", "mouth_open", "eye_open", "brow_raise", "brow_frown")


class FaceStyle(BaseModel):
    """How varied the synthetic faces are (ranges are ``[low, high]`` of uniform draws)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expression_jitter: float = Field(0.2, ge=0, description="sd of the per-face expression jitter.")
    intensity: tuple[float, float] = Field((0.6, 1.1), description="Range of the expression intensity factor.")
    noise: tuple[float, float] = Field((0.02, 0.07), description="Range of the pixel noise sd (grey level 0-1).")
    contrast: tuple[float, float] = Field((0.7, 1.2), description="Range of the global contrast factor.")
    max_shift: float = Field(2.5, ge=0, description="Largest face-centre offset, px.")
    max_tilt_deg: float = Field(8.0, ge=0, description="Largest head tilt, degrees.")


class ExpressionModel(BaseModel):
    """Which class -> action table draws the faces (module docstring); ``seed`` and ``min_distance``: independent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["circumplex", "independent"] = "independent"
    seed: int = Field(11, description="Seed of the independent class action vectors (not of the faces).")
    min_distance: float = Field(0.7, ge=0, le=1.5, description="Least distance between two classes' actions.")


def class_actions(
    classes: Sequence[str], table: Mapping[str, Sequence[int]], expression: ExpressionModel
) -> np.ndarray:
    """Action vector of each class ``(n_classes, 5)`` float64 in :data:`ACTIONS` order (module docstring).

    Raises
    ------
    ConfigError
        A class missing from the circumplex table (circumplex model), or no
        independent draw meeting ``min_distance`` within 10,000 tries.
    """
    if expression.model == "circumplex":
        va = level_coordinates(class_cells(classes, table))
        return va[:, [0, 1, 1, 1, 0]]
    rng = np.random.default_rng(expression.seed)
    for _ in range(10_000):
        actions = rng.uniform(-1.0, 1.0, (len(classes), len(ACTIONS)))
        gaps = np.linalg.norm(actions[:, None] - actions[None], axis=2) + np.eye(len(classes)) * 1e9
        if gaps.min() >= expression.min_distance:
            return actions
    raise ConfigError(
        f"expression model: no {len(classes)} classes at least {expression.min_distance} apart after 10000 draws; "
        "lower faces.expression.min_distance"
    )


def _uniform(rng: np.random.Generator, bounds: Sequence[float], n: int) -> np.ndarray:
    return rng.uniform(bounds[0], bounds[1], n)[:, None, None]


def _soft(distance: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by a shape from its signed distance (px, negative inside): a 1-px ramp."""
    return np.clip(0.5 - distance, 0.0, 1.0)


def _segment_distance(x: np.ndarray, y: np.ndarray, x0, y0, x1, y1) -> np.ndarray:
    """Distance (px) of points to the segments (x0, y0)-(x1, y1), broadcast over images."""
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(x - (x0 + t * dx), y - (y0 + t * dy))


def draw_faces(
    valence: np.ndarray,
    arousal: np.ndarray,
    asymmetry: np.ndarray,
    rng: np.random.Generator,
    style: FaceStyle | None = None,
) -> np.ndarray:
    """Draw one face per circumplex expression, ``(n, 48, 48)`` uint8: actions ``(v, a, a, a, v)``.

    Parameters
    ----------
    valence, arousal
        ``(n,)`` expression coordinates, about ``[-1, 1]`` (after intensity and jitter).
    asymmetry, rng, style
        As :func:`draw_actions`.
    """
    v, a = np.asarray(valence, float), np.asarray(arousal, float)
    return draw_actions(np.stack([v, a, a, a, v], axis=1), asymmetry, rng, style)


def draw_actions(
    actions: np.ndarray,
    asymmetry: np.ndarray,
    rng: np.random.Generator,
    style: FaceStyle | None = None,
) -> np.ndarray:
    """Draw one face per action vector (module docstring), ``(n, 48, 48)`` uint8.

    Parameters
    ----------
    actions
        ``(n, 5)`` expression parameters in :data:`ACTIONS` order, about ``[-1, 1]``.
    asymmetry
        ``(n,)`` one-sided mouth-corner raise, fraction of the full raise.
    rng
        Source of every identity and noise draw.
    style
        Variation ranges; defaults when None.
    """
    style = style or FaceStyle()
    act = np.asarray(actions, float)[:, :, None, None]
    n = len(act)
    smile, mouth_open, eye_open, brow_raise, brow_frown = (act[:, k] for k in range(len(ACTIONS)))
    asym = np.asarray(asymmetry, float)[:, None, None]
    grid = np.arange(SIZE, dtype=float) + 0.5
    gy, gx = grid[None, :, None], grid[None, None, :]

    cx = SIZE / 2 + _uniform(rng, (-style.max_shift, style.max_shift), n)
    cy = SIZE / 2 + 1 + _uniform(rng, (-style.max_shift, style.max_shift), n)
    tilt = np.deg2rad(_uniform(rng, (-style.max_tilt_deg, style.max_tilt_deg), n))
    rx, ry = _uniform(rng, (14, 18), n), _uniform(rng, (17, 21), n)
    # face-centred coordinates, rotated with the head
    dx, dy = gx - cx, gy - cy
    x = np.cos(tilt) * dx + np.sin(tilt) * dy
    y = -np.sin(tilt) * dx + np.cos(tilt) * dy

    background = _uniform(rng, (0.05, 0.45), n) + _uniform(rng, (-0.15, 0.15), n) * (gx / SIZE - 0.5)
    background = background + _uniform(rng, (-0.15, 0.15), n) * (gy / SIZE - 0.5)
    skin = _uniform(rng, (0.5, 0.85), n) + _uniform(rng, (-0.12, 0.12), n) * x / rx
    ink = np.clip(skin - _uniform(rng, (0.3, 0.45), n), 0.0, None)

    face = _soft((np.sqrt((x / rx) ** 2 + (y / ry) ** 2) - 1.0) * np.minimum(rx, ry))
    image = background * (1 - face) + skin * face

    eye_dx = rx * _uniform(rng, (0.33, 0.42), n)
    eye_y = -ry * _uniform(rng, (0.15, 0.25), n)
    eye_w = _uniform(rng, (2.2, 3.0), n)
    eye_h = np.clip(0.9 + 0.9 * eye_open, 0.25, 2.2)
    eyes = np.zeros_like(image)
    brows = np.zeros_like(image)
    brow_y = eye_y - _uniform(rng, (3.2, 4.2), n) - 1.5 * brow_raise
    brow_half = _uniform(rng, (3.0, 4.2), n)
    inner_drop = -1.4 * brow_frown
    for side in (-1.0, 1.0):
        ex = side * eye_dx
        r = np.sqrt(((x - ex) / eye_w) ** 2 + ((y - eye_y) / eye_h) ** 2)
        eyes = np.maximum(eyes, _soft((r - 1.0) * np.minimum(eye_w, eye_h)))
        inner_x, outer_x = ex - side * brow_half, ex + side * brow_half
        d = _segment_distance(x, y, inner_x, brow_y + inner_drop, outer_x, brow_y - 0.3 * inner_drop)
        brows = np.maximum(brows, _soft(d - 0.9))

    mouth_y = ry * _uniform(rng, (0.42, 0.52), n)
    mouth_w = rx * _uniform(rng, (0.3, 0.4), n)
    lean = asym + 0.1 * rng.standard_normal((n, 1, 1))
    u = x / mouth_w
    lift = 3.0 * smile
    upper = mouth_y - lift * u**2 + lift / 2 - 1.8 * lean * np.maximum(u, 0.0) ** 2
    opening = 2.8 * np.maximum(mouth_open + 0.2, 0.0)
    lower = upper + opening * np.clip(1 - u**2, 0.0, None)
    thick = 0.6
    band = np.maximum(upper - thick - y, y - lower - thick)
    mouth = _soft(np.maximum((np.abs(u) - 1.0) * mouth_w, band))

    nose = _soft(_segment_distance(x, y, 0.0 * x, eye_y + 3.0, 0.0 * x, mouth_y - 4.0) - 0.6)
    image = image - 0.08 * nose * face
    features = np.maximum(np.maximum(eyes, brows), mouth) * face
    image = image * (1 - features) + ink * features

    contrast = _uniform(rng, style.contrast, n)
    image = 0.5 + contrast * (image - 0.5) + _uniform(rng, (-0.08, 0.08), n)
    image = image + _uniform(rng, style.noise, n) * rng.standard_normal(image.shape)
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def synthetic_faces(
    n_per_class: int,
    classes: Sequence[str],
    table: Mapping[str, Sequence[int]] = CIRCUMPLEX,
    *,
    seed: int = 0,
    style: FaceStyle | None = None,
    expression: ExpressionModel | None = None,
    chunk: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """A balanced synthetic face set.

    Parameters
    ----------
    n_per_class
        Faces per class.
    classes
        Class names.
    table
        Circumplex table (class -> valence level, arousal level), read by the circumplex expression model only.
    seed
        Seed of every per-face draw.
    style
        Variation ranges.
    expression
        Class -> actions model (module docstring); None: the circumplex model.
    chunk
        Faces drawn per batch (bounds memory: about 40 arrays of ``chunk x 48 x 48`` float64).

    Returns
    -------
    images, labels
        ``(n, 48, 48)`` uint8 and ``(n,)`` int64 indices into ``classes``, in random order.
    """
    if n_per_class < 1:
        raise ConfigError(f"synthetic faces: n_per_class must be >= 1, got {n_per_class}")
    style = style or FaceStyle()
    rng = np.random.default_rng(seed)
    expression = expression or ExpressionModel(model="circumplex")
    base = class_actions(classes, table, expression)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), n_per_class))
    n = len(labels)
    intensity = rng.uniform(*style.intensity, n)
    if expression.model == "circumplex":  # jitter per valence / arousal axis, shared by their actions
        va = base[labels][:, :2] * intensity[:, None] + style.expression_jitter * rng.standard_normal((n, 2))
        actions = va[:, [0, 1, 1, 1, 0]]
    else:
        jitter = style.expression_jitter * rng.standard_normal((n, len(ACTIONS)))
        actions = base[labels] * intensity[:, None] + jitter
    asym = np.asarray([ASYMMETRY.get(c, 0.0) for c in classes])[labels] * intensity
    images = np.concatenate(
        [draw_actions(actions[lo : lo + chunk], asym[lo : lo + chunk], rng, style) for lo in range(0, n, chunk)]
    )
    return images, labels.astype(np.int64)
