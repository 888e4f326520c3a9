"""Sparse electrode grids: the published DREAMER/DEAP layout, the geometric assignment, scattering."""

import numpy as np
import pytest

from biosig.errors import ConfigError, DataError
from graphs.adjacency import hemispheric_pairs
from graphs.grid import electrode_grid, grid_from_positions, preset_grid, to_grid
from graphs.positions import DEAP32, EMOTIV14, SEED62, montage_channels

# TorchEEG DREAMER_LOCATION_LIST / HiSTN Embed_DREAMER (field notes section 5)
DREAMER_PUBLISHED = {
    "AF3": (1, 3), "AF4": (1, 5), "F7": (2, 0), "F3": (2, 2), "F4": (2, 6), "F8": (2, 8), "FC5": (3, 1),
    "FC6": (3, 7), "T7": (4, 0), "T8": (4, 8), "P7": (6, 0), "P8": (6, 8), "O1": (8, 3), "O2": (8, 5),
}  # fmt: skip


def test_dreamer_preset_is_the_published_mapping():
    for method in ("auto", "preset"):
        grid = electrode_grid(EMOTIV14, method=method)
        assert grid == DREAMER_PUBLISHED
        assert list(grid) == list(EMOTIV14)  # keyed in the given channel order


def test_deap_and_seed_presets():
    deap = electrode_grid(DEAP32)
    assert (deap["FP1"], deap["FZ"], deap["PO3"], deap["OZ"], deap["CP6"]) == ((0, 3), (2, 4), (7, 3), (8, 4), (5, 7))
    seed = preset_grid(SEED62)
    assert len(set(seed.values())) == 62
    assert (seed["CB1"], seed["CB2"], seed["FT7"], seed["PO8"]) == ((8, 2), (8, 6), (3, 0), (7, 7))
    assert electrode_grid(["fp1", "EEG Fz-REF"]) == {"fp1": (0, 3), "EEG Fz-REF": (2, 4)}


def test_geometric_assignment_hand_computed():
    corners = np.array([[-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    assert grid_from_positions(corners, 3).tolist() == [[0, 0], [0, 2], [2, 0], [2, 2]]
    # P0 and P1 both round to cell (0, 0); moving P1 to (0, 1) costs 0.36, moving P0 instead costs 1
    pts = np.array([[0.0, 1.0], [0.4, 1.0], [1.0, 0.0]])
    assert grid_from_positions(pts, 2).tolist() == [[0, 0], [0, 1], [1, 1]]
    with pytest.raises(ConfigError, match="fewer than"):
        grid_from_positions(np.random.default_rng(0).normal(size=(5, 2)), 2)


def test_geometric_grid_on_symmetric_montage_is_mirrored():
    names = montage_channels("biosemi64")
    grid = electrode_grid(names, size=9, montage="biosemi64")  # not all in the preset: geometric
    cells = list(grid.values())
    assert len(set(cells)) == 64 and all(0 <= r < 9 and 0 <= c < 9 for r, c in cells)
    for i, j in hemispheric_pairs(names):
        assert cells[i][0] == cells[j][0] and cells[i][1] + cells[j][1] == 8, (names[i], names[j])
    assert grid["Fpz"][0] == 0 and grid["Oz"][0] == 8 and grid["T7"][1] == 0


def test_geometric_differs_from_published_for_dreamer():
    geo = electrode_grid(EMOTIV14, method="geometric")
    assert len(set(geo.values())) == 14
    assert geo["T7"] == (4, 0) and geo["T8"] == (4, 8)
    assert geo["F7"][1] == 1  # the published layout's (2, 0) follows the name, not the position


def test_egi_and_sizes():
    names = montage_channels("GSN-HydroCel-64_1.0")
    grid = electrode_grid(names, size=8, montage="GSN-HydroCel-64_1.0")
    assert sorted(grid.values()) == [(r, c) for r in range(8) for c in range(8)]  # 64 channels fill 8x8
    with pytest.raises(DataError, match="E1"):
        electrode_grid(names, method="preset")
    with pytest.raises(ConfigError, match="9x9"):
        electrode_grid(EMOTIV14, size=8, method="preset")
    with pytest.raises(ConfigError, match="method"):
        electrode_grid(EMOTIV14, method="nearest")


def test_to_grid_scatters_vectorised():
    grid = electrode_grid(EMOTIV14)
    values = np.arange(2 * 3 * 14, dtype=float).reshape(2, 3, 14) + 1
    out = to_grid(values, grid)
    assert out.shape == (2, 3, 9, 9)
    for k, (r, c) in enumerate(grid.values()):
        np.testing.assert_array_equal(out[..., r, c], values[..., k])
    assert np.count_nonzero(out) == values.size  # all other cells 0
    with pytest.raises(DataError, match="14 mapped channels"):
        to_grid(values[..., :13], grid)
    with pytest.raises(ConfigError, match="one cell"):
        to_grid(np.ones(2), {"a": (0, 0), "b": (0, 0)})
    with pytest.raises(ConfigError, match="outside"):
        to_grid(np.ones(1), {"a": (9, 0)})
