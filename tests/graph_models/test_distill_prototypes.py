"""Prototype grid: rating bins, cell means, neighbour filling, the versioned artefact and its validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biosig.errors import DataError
from graphs.distill.prototypes import (
    FORMAT_VERSION,
    build_grid,
    fill_empty_cells,
    grid_paths,
    load_grid,
    rating_levels,
    save_grid,
)


def test_rating_levels_on_the_1_5_and_1_9_scales() -> None:
    assert rating_levels(np.array([1, 2, 3, 4, 5]), (1, 5)).tolist() == [0, 1, 2, 3, 4]
    # 1-9: edges 1, 2.6, 4.2, 5.8, 7.4, 9 -> 1-2 | 3-4 | 5 | 6-7 | 8-9
    assert rating_levels(np.arange(1, 10), (1, 9)).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 4]
    # a rating on an edge belongs to the upper bin; continuous ratings to the bin holding them
    assert rating_levels(np.array([2.6, 2.59, 7.4, 9.0]), (1, 9)).tolist() == [1, 0, 4, 4]
    with pytest.raises(DataError, match=r"valence: ratings \[0\.0, nan\]"):
        rating_levels(np.array([0.0, np.nan, 3.0]), (1, 5), name="valence")


def _grid(embeddings, valence, arousal):
    return build_grid(
        np.asarray(embeddings, float),
        np.asarray(valence),
        np.asarray(arousal),
        (1, 5),
        teacher_config_hash="abc123",
        dataset={"kind": "test"},
    )


def test_cells_average_unit_embeddings() -> None:
    # two windows in cell (valence 1 -> level 0, arousal 5 -> level 4), one in cell (2, 2)
    grid = _grid([[3.0, 0.0], [0.0, 2.0], [0.0, -5.0]], [1, 1, 3], [5, 5, 3])
    np.testing.assert_allclose(grid.prototypes[0, 4], [0.5, 0.5], atol=1e-7)  # mean of (1, 0) and (0, 1)
    np.testing.assert_allclose(grid.prototypes[2, 2], [0.0, -1.0], atol=1e-7)
    assert grid.counts[0, 4] == 2 and grid.counts[2, 2] == 1 and grid.counts.sum() == 3
    assert not grid.filled[0, 4] and not grid.filled[2, 2] and grid.filled.sum() == 23
    assert grid.metadata["bins"]["edges"] == [1.0, 1.8, 2.6, 3.4, 4.2, 5.0]


def test_empty_cells_take_the_mean_of_known_neighbours_pass_by_pass() -> None:
    known = np.zeros((3, 3), dtype=bool)
    known[0, 0] = known[0, 2] = True
    values = np.zeros((3, 3, 1))
    values[0, 0], values[0, 2] = 2.0, 4.0
    filled, passes = fill_empty_cells(values, known)
    # pass 1: (0,1), (1,0), (1,1), (1,2) touch a known cell; (0,1) and (1,1) touch both
    assert filled[0, 1, 0] == 3.0 and filled[1, 1, 0] == 3.0 and filled[1, 0, 0] == 2.0 and filled[1, 2, 0] == 4.0
    # pass 2: row 2 from the pass-1 cells only, e.g. (2,0) = mean of (1,0)=2 and (1,1)=3
    assert filled[2, 0, 0] == 2.5 and filled[2, 1, 0] == 3.0 and filled[2, 2, 0] == 3.5
    assert passes.tolist() == [[0, 1, 0], [1, 1, 1], [2, 2, 2]]
    with pytest.raises(DataError, match="every cell is empty"):
        fill_empty_cells(values, np.zeros((3, 3), dtype=bool))


def test_unit_prototypes_can_be_centred() -> None:
    rng = np.random.default_rng(0)
    z = np.abs(rng.normal(size=(50, 6))) + 2.0  # non-negative, one shared direction (like ReLU embeddings)
    grid = _grid(z, rng.integers(1, 6, 50), rng.integers(1, 6, 50))
    raw, centred = grid.unit(center=False), grid.unit(center=True)
    np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1.0, rtol=1e-5)
    assert (raw @ raw.T).min() > 0.85 and (centred @ centred.T).min() < 0.0


def test_artefact_round_trip(tmp_path: Path) -> None:
    grid = _grid(np.eye(4)[[0, 1, 2, 3, 0]], [1, 2, 3, 4, 1], [1, 2, 3, 4, 1])
    npz, meta = save_grid(grid, tmp_path / "protos_v1")
    assert (npz.name, meta.name) == ("protos_v1.npz", "protos_v1.json")
    loaded = load_grid(meta, embed_dim=4, teacher_config_hash="abc123")
    np.testing.assert_array_equal(loaded.prototypes, grid.prototypes)
    np.testing.assert_array_equal(loaded.fill_pass, grid.fill_pass)
    assert loaded.metadata["format_version"] == FORMAT_VERSION
    assert json.loads(meta.read_text())["counts"][0][0] == 2


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    return save_grid(_grid(np.eye(3)[[0, 1, 2]], [1, 3, 5], [1, 3, 5]), tmp_path / "g")


def _rewrite_json(path: Path, **changes) -> None:
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_load_rejects_missing_files_and_other_versions(saved: tuple[Path, Path]) -> None:
    npz, meta = saved
    with pytest.raises(DataError, match="format_version 99"):
        _rewrite_json(meta, format_version=99)
        load_grid(npz)
    meta.unlink()
    with pytest.raises(DataError, match=r"g\.json does not exist"):
        load_grid(npz)


def test_load_never_unpickles(saved: tuple[Path, Path]) -> None:
    npz, _ = saved
    with np.load(npz) as blob:
        arrays = {k: blob[k] for k in blob.files}
    arrays["prototypes"] = np.array([{"evil": 1}], dtype=object)
    np.savez(npz, **arrays)
    with pytest.raises(DataError, match="cannot be read without unpickling"):
        load_grid(npz)


def test_load_checks_shapes_and_agreement_with_the_metadata(saved: tuple[Path, Path]) -> None:
    npz, meta = saved
    with pytest.raises(DataError, match="embed_dim 3, but 64 is needed"):
        load_grid(npz, embed_dim=64)
    with pytest.raises(DataError, match="teacher_config_hash 'abc123' differs"):
        load_grid(npz, teacher_config_hash="other")
    _rewrite_json(meta, counts=[[0] * 5] * 5)
    with pytest.raises(DataError, match="'counts' disagree"):
        load_grid(npz)
    with np.load(npz) as blob:
        arrays = {k: blob[k] for k in blob.files}
    np.savez(npz, **{**arrays, "prototypes": arrays["prototypes"][:4]})
    with pytest.raises(DataError, match=r"'prototypes' must be float \(5, 5, embed_dim\)"):
        load_grid(npz)
    np.savez(npz, **{**arrays, "prototypes": arrays["prototypes"] * np.nan})
    with pytest.raises(DataError, match="NaN"):
        load_grid(npz)


def test_grid_paths_accept_either_file_or_the_stem(tmp_path: Path) -> None:
    expected = (tmp_path / "a_v1.npz", tmp_path / "a_v1.json")
    assert grid_paths(tmp_path / "a_v1.json") == expected == grid_paths(tmp_path / "a_v1")
