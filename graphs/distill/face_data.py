"""Face sets for the students: FERPlus (FER2013 pixels + FERPlus votes), image folders, the synthetic set.

Every loader returns a :class:`FaceSet`: ``(n, 48, 48)`` uint8 grey images
and class indices into the configured class list.

*FERPlus.* ``fer2013.csv`` (columns ``emotion,pixels,Usage``: 2304
space-separated grey levels per row) and ``fer2013new.csv`` (FERPlus: columns
``Usage, Image name, neutral, happiness, surprise, sadness, anger, disgust,
fear, contempt, unknown, NF``, the votes of 10 annotators), row *i* of one
being row *i* of the other (FERPlus README). Labels follow FERPlus' own
"majority" mode (``src/ferplus.py``, ``_process_data``): single votes are
dropped as outliers, then an image keeps the class with the most votes only
if that class has more than half of the remaining votes and is one of the 8
emotions; otherwise (no majority, or the majority says unknown / not a face)
the image is left out. Images whose majority class is not in the configured
class list are left out too. ``Usage`` gives the split: ``Training``,
``PublicTest`` (validation) and ``PrivateTest`` (test).

*Image folders* (AffectNet exports, CK+ crops...): ``root/<class>/*.png|jpg|...``,
one folder per class. Folder names are matched to classes case-insensitively,
through :data:`DEFAULT_ALIASES` (``happy`` -> ``happiness``...) and the
configured aliases (e.g. AffectNet's numeric folders ``"0": neutral``).
Images are read with Pillow, converted to grey (``L``) and resized to 48 x 48
(bilinear). Folders with no images are skipped.

*Synthetic* faces come from :func:`graphs.distill.faces.synthetic_faces`.

:func:`face_splits` gives a configured source's training, validation and test
faces (FERPlus by ``Usage``; folders and synthetic faces by a seeded split per
class, :func:`stratified_split`); :func:`face_set` gives all faces of a source
used only for testing (FERPlus: its ``PrivateTest`` rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.errors import DataError

from .circumplex import FERPLUS_CLASSES
from .config import FaceSourceConfig
from .faces import synthetic_faces

SIZE = 48
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
FERPLUS_VOTES = (*FERPLUS_CLASSES, "unknown", "NF")
FERPLUS_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}

#: Folder names of common exports -> FERPlus class names (matched in lower case).
DEFAULT_ALIASES: dict[str, str] = {
    "happy": "happiness",
    "surprised": "surprise",
    "sad": "sadness",
    "angry": "anger",
    "disgusted": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "contemptuous": "contempt",
}


@dataclass(frozen=True)
class FaceSet:
    """Grey faces and their classes.

    Attributes
    ----------
    images
        ``(n, 48, 48)`` uint8.
    labels
        ``(n,)`` int64 indices into ``classes``.
    classes
        Class names of the task (all of them, present in this set or not).
    source
        Where the faces come from, for reports.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray, source: str | None = None) -> FaceSet:
        """The faces at ``rows``."""
        return FaceSet(self.images[rows], self.labels[rows], self.classes, source or self.source)

    def counts(self) -> dict[str, int]:
        """Faces per class name."""
        n = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, n, strict=True)}

    def tensor_input(self) -> np.ndarray:
        """Model input ``(n, 1, 48, 48)`` float32 in ``[0, 1]``."""
        return self.images[:, None].astype(np.float32) / 255.0


@dataclass(frozen=True)
class FaceSplits:
    """Training, validation (model selection) and test faces."""

    train: FaceSet
    val: FaceSet
    test: FaceSet


def ferplus_majority(votes: np.ndarray) -> np.ndarray:
    """FERPlus' majority label of each row of votes, or -1 when the image is left out.

    Parameters
    ----------
    votes
        ``(n, 10)`` vote counts in :data:`FERPLUS_VOTES` order (8 emotions, unknown, NF).

    Returns
    -------
    np.ndarray
        ``(n,)`` int64 emotion index 0..7, -1 for no majority or a majority for unknown / not a face.
    """
    v = np.asarray(votes, dtype=float)
    v = np.where(v <= 1.0, 0.0, v)  # single votes are outliers (FERPlus)
    top = v.argmax(axis=1)
    majority = v.max(axis=1) > 0.5 * v.sum(axis=1)
    return np.where(majority & (top < len(FERPLUS_CLASSES)), top, -1).astype(np.int64)


def load_ferplus(
    fer2013_csv: str | Path, ferplus_csv: str | Path, classes: Sequence[str] = FERPLUS_CLASSES
) -> dict[str, FaceSet]:
    """FERPlus faces by split (``train``, ``val``, ``test``; module docstring).

    Raises
    ------
    DataError
        A missing file or column, files of different lengths or usages, a
        pixel row that is not 2304 integers in 0..255, a class outside FERPlus'.
    """
    unknown = [c for c in classes if c not in FERPLUS_CLASSES]
    if unknown:
        raise DataError(f"FERPlus has no classes {unknown}; its classes are {list(FERPLUS_CLASSES)}")
    pixels_path, votes_path = Path(fer2013_csv), Path(ferplus_csv)
    pixels = _read_csv(pixels_path, ("pixels", "Usage"))
    votes = _read_csv(votes_path, ("Usage", *FERPLUS_VOTES))
    if len(pixels) != len(votes):
        raise DataError(
            f"{votes_path} has {len(votes)} rows but {pixels_path} has {len(pixels)}; FERPlus rows pair one to one"
        )
    usage = pixels["Usage"].astype(str).str.strip().to_numpy()
    differ = np.flatnonzero(usage != votes["Usage"].astype(str).str.strip().to_numpy())
    if len(differ):
        raise DataError(
            f"{pixels_path} and {votes_path} disagree on Usage from data row {differ[0] + 1}; "
            "are they FER2013 and FERPlus?"
        )
    try:
        counts = votes[list(FERPLUS_VOTES)].to_numpy(dtype=float)
    except ValueError:
        raise DataError(f"{votes_path}: vote columns {list(FERPLUS_VOTES)} must be numbers") from None
    label8 = ferplus_majority(counts)
    to_task = np.full(len(FERPLUS_CLASSES) + 1, -1, dtype=np.int64)  # index -1 maps to -1
    for i, c in enumerate(classes):
        to_task[FERPLUS_CLASSES.index(c)] = i
    labels = to_task[label8]
    keep = labels >= 0
    images = _parse_pixels(pixels["pixels"].to_numpy()[keep], np.flatnonzero(keep), pixels_path)
    out = {}
    for split, name in FERPLUS_USAGE.items():
        rows = usage[keep] == name
        out[split] = FaceSet(images[rows], labels[keep][rows], tuple(classes), f"FERPlus {name}")
    return out


def load_image_folder(root: str | Path, classes: Sequence[str], aliases: Mapping[str, str] | None = None) -> FaceSet:
    """Faces from ``root/<class>/<image>`` folders (module docstring).

    Raises
    ------
    DataError
        ``root`` missing, a folder naming no known class (the message lists
        the classes and aliases), an unreadable image, no image at all.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    names = {c.lower(): c for c in classes}
    lookup = {
        **{k.lower(): v for k, v in DEFAULT_ALIASES.items()},
        **{str(k).lower(): v for k, v in (aliases or {}).items()},
    }
    images, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        key = folder.name.lower()
        name = names.get(key) or names.get(str(lookup.get(key, "")).lower())
        if name is None:
            raise DataError(
                f"{folder}: folder name {folder.name!r} is not a class; classes are {list(classes)}, "
                f"aliases {sorted(lookup)} (add one under aliases)"
            )
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                with Image.open(path) as img:
                    grey = img.convert("L").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
                    images.append(np.asarray(grey, dtype=np.uint8))
            except (OSError, UnidentifiedImageError) as exc:
                raise DataError(f"{path}: not a readable image: {exc}") from None
            labels.append(list(classes).index(name))
    if not images:
        raise DataError(f"image folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)}) in class folders")
    return FaceSet(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(classes), f"folder {root}")


def stratified_split(faces: FaceSet, val_fraction: float, test_fraction: float, seed: int = 0) -> FaceSplits:
    """Split each class at random into train / val / test parts of the given fractions.

    Every class with at least 3 faces has at least one in each part.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(f"split fractions val={val_fraction}, test={test_fraction} must be in (0, 1) and sum below 1")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c in np.unique(faces.labels):
        rows = rng.permutation(np.flatnonzero(faces.labels == c))
        n = len(rows)
        n_val = min(max(int(round(val_fraction * n)), 1), max(n - 2, 0)) if n >= 3 else 0
        n_test = min(max(int(round(test_fraction * n)), 1), n - n_val - 1) if n >= 3 else 0
        parts["val"].append(rows[:n_val])
        parts["test"].append(rows[n_val : n_val + n_test])
        parts["train"].append(rows[n_val + n_test :])
    sets = {k: faces.subset(np.sort(np.concatenate(v)), f"{faces.source} ({k})") for k, v in parts.items()}
    return FaceSplits(sets["train"], sets["val"], sets["test"])


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    try:
        table = pd.read_csv(path, dtype={"pixels": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path} is not a readable CSV: {exc}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{path} lacks columns {missing}; it has {list(table.columns)}")
    return table


def _parse_pixels(rows: np.ndarray, row_numbers: np.ndarray, path: Path) -> np.ndarray:
    """``(n, 48, 48)`` uint8 from FER2013 pixel strings; errors name the first bad data row."""
    out = np.empty((len(rows), SIZE, SIZE), dtype=np.uint8)
    for i, text in enumerate(rows):
        try:
            values = np.array(str(text).split(), dtype=np.int64)
        except ValueError:
            values = np.empty(0, dtype=np.int64)
        if values.size != SIZE * SIZE or values.min(initial=0) < 0 or values.max(initial=0) > 255:
            raise DataError(f"{path}: data row {row_numbers[i] + 1} 'pixels' must be {SIZE * SIZE} integers in 0..255")
        out[i] = values.reshape(SIZE, SIZE)
    return out


def _synthetic(source: FaceSourceConfig, classes: Sequence[str], table: Mapping[str, Sequence[int]]) -> FaceSet:
    drawn = tuple(source.classes or classes)
    images, labels = synthetic_faces(source.n_per_class, drawn, table, seed=source.seed, style=source.style)
    remap = np.asarray([list(classes).index(c) for c in drawn], dtype=np.int64)
    return FaceSet(images, remap[labels], tuple(classes), f"synthetic faces (seed {source.seed})")


def face_splits(source: FaceSourceConfig, classes: Sequence[str], table: Mapping[str, Sequence[int]]) -> FaceSplits:
    """Training, validation and test faces of a configured face source (module docstring).

    Raises
    ------
    DataError
        From the loaders, or an empty split.
    """
    if source.kind == "ferplus":
        parts = load_ferplus(source.fer2013_csv, source.ferplus_csv, classes)
        splits = FaceSplits(parts["train"], parts["val"], parts["test"])
    else:
        faces = (
            _synthetic(source, classes, table)
            if source.kind == "synthetic"
            else load_image_folder(source.path, classes, source.aliases)
        )
        splits = stratified_split(faces, source.val_fraction, source.test_fraction, source.seed)
    for name in ("train", "val", "test"):
        if not len(getattr(splits, name)):
            raise DataError(f"face set {source.kind}: the {name} split is empty")
    return splits


def face_set(source: FaceSourceConfig, classes: Sequence[str], table: Mapping[str, Sequence[int]]) -> FaceSet:
    """All faces of a configured source, for a cross-dataset test (FERPlus: its PrivateTest split)."""
    if source.kind == "ferplus":
        return load_ferplus(source.fer2013_csv, source.ferplus_csv, classes)["test"]
    if source.kind == "synthetic":
        return _synthetic(source, classes, table)
    return load_image_folder(source.path, classes, source.aliases)
