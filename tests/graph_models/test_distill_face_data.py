"""Face loaders: FERPlus majority vote and splits, image folders with Pillow, stratified splits, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from biosig.errors import DataError
from graphs.distill.circumplex import FERPLUS_CLASSES
from graphs.distill.config import FaceSourceConfig
from graphs.distill.face_data import (
    FaceSet,
    face_set,
    ferplus_majority,
    load_ferplus,
    load_image_folder,
    stratified_split,
)

VOTE_COLUMNS = [*FERPLUS_CLASSES, "unknown", "NF"]
# (usage, votes in FERPlus column order)
ROWS = [
    ("Training", [4, 0, 0, 1, 3, 2, 0, 0, 0, 0]),  # singles dropped: 4 of 9 is no majority -> out
    ("Training", [6, 0, 1, 1, 0, 0, 0, 0, 2, 0]),  # 6 of 8 -> neutral
    ("Training", [0, 10, 0, 0, 0, 0, 0, 0, 0, 0]),  # happiness
    ("PublicTest", [0, 0, 6, 0, 0, 0, 4, 0, 0, 0]),  # 6 of 10 -> surprise
    ("PublicTest", [0, 0, 0, 0, 0, 0, 0, 0, 8, 2]),  # majority unknown -> out
    ("PrivateTest", [0, 0, 0, 0, 0, 0, 0, 0, 0, 10]),  # not a face -> out
    ("PrivateTest", [3, 0, 0, 0, 0, 0, 0, 7, 0, 0]),  # contempt
    ("PrivateTest", [5, 5, 0, 0, 0, 0, 0, 0, 0, 0]),  # tie at half -> out
]


def _pixels(i: int) -> np.ndarray:
    return ((np.arange(48 * 48) * (i + 1)) % 256).astype(np.uint8)


def _write_ferplus(folder: Path, rows=ROWS) -> tuple[Path, Path]:
    fer = pd.DataFrame(
        {
            "emotion": [0] * len(rows),
            "pixels": [" ".join(map(str, _pixels(i))) for i in range(len(rows))],
            "Usage": [u for u, _ in rows],
        }
    )
    votes = pd.DataFrame([v for _, v in rows], columns=VOTE_COLUMNS)
    votes.insert(0, "Image name", [f"fer{i:07d}.png" for i in range(len(rows))])
    votes.insert(0, "Usage", [u for u, _ in rows])
    fer_path, votes_path = folder / "fer2013.csv", folder / "fer2013new.csv"
    fer.to_csv(fer_path, index=False)
    votes.to_csv(votes_path, index=False)
    return fer_path, votes_path


def test_ferplus_majority_rule_by_hand() -> None:
    assert ferplus_majority(np.array([v for _, v in ROWS])).tolist() == [-1, 0, 1, 2, -1, -1, 7, -1]


def test_ferplus_splits_labels_and_pixels(tmp_path: Path) -> None:
    parts = load_ferplus(*_write_ferplus(tmp_path))
    assert parts["train"].labels.tolist() == [0, 1]
    assert parts["val"].labels.tolist() == [2]
    assert parts["test"].labels.tolist() == [7]
    np.testing.assert_array_equal(parts["train"].images[0].ravel(), _pixels(1))  # data row 1 (row 0 left out)
    np.testing.assert_array_equal(parts["test"].images[0].ravel(), _pixels(6))
    assert parts["train"].images.shape == (2, 48, 48) and parts["train"].images.dtype == np.uint8
    # a class subset in another order: indices follow it, other majority classes are left out
    sub = load_ferplus(*_write_ferplus(tmp_path), classes=("happiness", "neutral"))
    assert sub["train"].labels.tolist() == [1, 0] and len(sub["test"]) == 0


def test_ferplus_errors_name_the_problem(tmp_path: Path) -> None:
    fer, votes = _write_ferplus(tmp_path)
    with pytest.raises(DataError, match="has no classes \\['joy'\\]"):
        load_ferplus(fer, votes, classes=("neutral", "joy"))
    with pytest.raises(DataError, match="missing.csv does not exist"):
        load_ferplus(tmp_path / "missing.csv", votes)
    pd.read_csv(votes).iloc[:5].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="has 5 rows but .* has 8"):
        load_ferplus(fer, tmp_path / "short.csv")
    table = pd.read_csv(fer, dtype={"pixels": str})
    table.loc[2, "pixels"] = " ".join(["1"] * 2303)
    table.to_csv(fer, index=False)
    with pytest.raises(DataError, match="data row 3 'pixels' must be 2304 integers"):
        load_ferplus(fer, votes)
    pd.read_csv(votes).drop(columns=["contempt"]).to_csv(votes, index=False)
    with pytest.raises(DataError, match=r"lacks columns \['contempt'\]"):
        load_ferplus(fer, votes)


def _save(path: Path, mode: str, size: tuple[int, int], color) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def test_image_folders_with_aliases(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "a.png", "RGB", (64, 64), (200, 100, 50))
    _save(tmp_path / "Sadness" / "b.jpg", "L", (30, 40), 77)
    _save(tmp_path / "0" / "c.png", "L", (48, 48), 10)
    (tmp_path / "happy" / "notes.txt").write_text("not an image")
    faces = load_image_folder(tmp_path, FERPLUS_CLASSES, aliases={"0": "neutral"})
    assert faces.images.shape == (3, 48, 48) and faces.images.dtype == np.uint8
    # folders in sorted order: "0", "Sadness", "happy"
    assert faces.labels.tolist() == [0, 3, 1]
    # Pillow's L = R 299/1000 + G 587/1000 + B 114/1000
    assert int(faces.images[2, 24, 24]) == round(200 * 0.299 + 100 * 0.587 + 50 * 0.114)
    assert abs(int(faces.images[1, 10, 10]) - 77) <= 2  # JPEG
    assert faces.counts()["happiness"] == 1


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "none", FERPLUS_CLASSES)
    _save(tmp_path / "joy" / "a.png", "L", (48, 48), 0)
    with pytest.raises(DataError, match="folder name 'joy' is not a class"):
        load_image_folder(tmp_path, FERPLUS_CLASSES)
    (tmp_path / "joy" / "a.png").unlink()
    (tmp_path / "joy").rmdir()
    (tmp_path / "fear").mkdir()
    (tmp_path / "fear" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        load_image_folder(tmp_path, FERPLUS_CLASSES)
    (tmp_path / "fear" / "broken.png").unlink()
    with pytest.raises(DataError, match="holds no images"):
        load_image_folder(tmp_path, FERPLUS_CLASSES)


def test_stratified_split_is_per_class_and_disjoint() -> None:
    labels = np.repeat(np.arange(3), 10)
    faces = FaceSet(
        np.arange(30, dtype=np.uint8)[:, None, None] * np.ones((1, 48, 48), np.uint8), labels, ("a", "b", "c"), "t"
    )
    splits = stratified_split(faces, 0.2, 0.3, seed=0)
    for part, n in ((splits.train, 5), (splits.val, 2), (splits.test, 3)):
        assert np.bincount(part.labels).tolist() == [n] * 3
    ids = np.concatenate([s.images[:, 0, 0] for s in (splits.train, splits.val, splits.test)])
    assert sorted(ids.tolist()) == list(range(30))


def test_synthetic_face_source_maps_a_class_subset_to_the_task_classes() -> None:
    source = FaceSourceConfig(kind="synthetic", n_per_class=3, classes=("fear", "happiness"), seed=3)
    faces = face_set(source, FERPLUS_CLASSES, dict(zip(FERPLUS_CLASSES, [(2, 2)] * 8, strict=True)))
    assert sorted(set(faces.labels.tolist())) == [1, 6] and faces.classes == FERPLUS_CLASSES
