"""Region hierarchies: HiSTN's Emotiv-14, the 10-05 rule for DEAP/SEED, positional clustering, peripherals."""

import mne
import numpy as np
import pytest

from biosig.errors import ConfigError, DataError
from graphs.adjacency import knn_adjacency
from graphs.positions import DEAP32, EMOTIV14, SEED62, electrode_positions, montage_channels
from graphs.regions import (
    GLOBAL_NODE,
    RegionHierarchy,
    deap32_hierarchy,
    emotiv14_histn,
    hierarchy_for,
    hierarchy_from_positions,
    seed62_hierarchy,
    tenten_hierarchy,
    tenten_region,
    with_peripheral,
)


def test_emotiv14_histn_kept():
    h = emotiv14_histn()
    assert h.channels == EMOTIV14 and h.region_names == ("FL", "PL", "PR", "FR")
    assert h.region_adjacency().sum() == 8 and h.channel_adjacency().sum() == 24


def test_deap32_regions():
    h = deap32_hierarchy()
    regions = {r: set(chs) for r, chs in h.regions}
    assert regions == {
        "FL": {"FP1", "AF3", "F3", "F7", "FC5", "FC1"},
        "FR": {"FP2", "AF4", "F4", "F8", "FC6", "FC2"},
        "C": {"C3", "CP5", "CP1", "PZ", "FZ", "CZ", "C4", "CP6", "CP2"},
        "TL": {"T7"},
        "TR": {"T8"},
        "PL": {"P3", "P7"},
        "PR": {"P4", "P8"},
        "O": {"PO3", "O1", "OZ", "PO4", "O2"},
    }
    assert sorted(h.channels) == sorted(DEAP32)
    edges = {frozenset(e) for e in h.intra_edges}
    assert frozenset(("P3", "P7")) in edges and not any("T7" in e for e in edges)
    # region graph: left and right mirror each other, the central region touches all but nothing crosses it
    region_edges = {frozenset(e) for e in h.region_edges}
    for a, b in (("FL", "TL"), ("TL", "PL"), ("PL", "O")):
        assert frozenset((a, b)) in region_edges
        assert frozenset((a.replace("L", "R"), b.replace("L", "R"))) in region_edges
    assert frozenset(("TL", "TR")) not in region_edges and frozenset(("PL", "PR")) not in region_edges


def test_intra_edges_are_knn_inside_each_region():
    h = seed62_hierarchy()
    got = {frozenset(e) for e in h.intra_edges}
    expected = set()
    for _, chs in h.regions:
        if len(chs) > 1:
            adj = knn_adjacency(electrode_positions(chs), min(3, len(chs) - 1))
            expected |= {frozenset((chs[i], chs[j])) for i, j in zip(*np.nonzero(adj))}
    assert got == expected
    sizes = {r: len(chs) for r, chs in h.regions}
    assert sizes == {"FL": 9, "FR": 9, "C": 18, "TL": 3, "TR": 3, "PL": 4, "PR": 4, "O": 12}
    assert {"CB1", "CB2", "POZ"} <= set(dict(h.regions)["O"])


def test_tenten_region_rule():
    assert [tenten_region(c) for c in ("Fp1", "FCz", "FT8", "CP5", "P2", "POz", "CB2", "Iz", "M1")] == [
        "FL", "C", "TR", "C", "PR", "O", "O", "O", "TL"
    ]  # fmt: skip
    with pytest.raises(DataError, match="'E5'"):
        tenten_region("E5")
    with pytest.raises(DataError, match="E5"):
        tenten_hierarchy(["Fp1", "E5"])


def _cluster_montage():
    """15 electrodes in 5 mirror-symmetric clusters: vertex, front-left/right, back-left/right."""
    centres = {"FL": (60, 135), "FR": (60, 45), "C": (0, 0), "BL": (60, 225), "BR": (60, 315)}
    offsets = [(0, 0), (6, -8), (6, 8)]  # degrees (polar, azimuth), mirrored within each cluster
    pos, truth = {}, {}
    for name, (theta, phi) in centres.items():
        for k, (dt, dp) in enumerate(offsets):
            mirror = -1 if name in ("FR", "BR") else 1  # keep the layout left/right symmetric
            t, p = np.deg2rad(theta + dt), np.deg2rad(phi + mirror * dp)
            ch = f"E{len(pos) + 1}"
            pos[ch] = 0.09 * np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])
            truth[ch] = name
    return mne.channels.make_dig_montage(pos, coord_frame="head"), truth


def test_positional_hierarchy_recovers_clusters_and_delaunay_region_graph():
    montage, truth = _cluster_montage()
    h = hierarchy_from_positions(list(truth), n_regions=5, montage=montage, seed=0)
    named = {r: {truth[ch] for ch in chs} for r, chs in h.regions}
    # numbered front to back, left to right among equals
    assert named == {"R1": {"FL"}, "R2": {"FR"}, "R3": {"C"}, "R4": {"BL"}, "R5": {"BR"}}
    # square with its centre: the four sides and four spokes, no diagonal
    assert {frozenset(e) for e in h.region_edges} == {
        frozenset(e) for e in [("R1", "R2"), ("R1", "R4"), ("R2", "R5"), ("R4", "R5"),
                               ("R3", "R1"), ("R3", "R2"), ("R3", "R4"), ("R3", "R5")]
    }  # fmt: skip
    assert len(h.intra_edges) == 15  # each 3-channel region fully joined
    assert hierarchy_from_positions(list(truth), 5, montage=montage, seed=0) == h
    with pytest.raises(ConfigError, match="n_regions"):
        hierarchy_from_positions(list(truth), 16, montage=montage)


def test_hierarchy_for_lookup():
    assert hierarchy_for("dreamer") == emotiv14_histn() == hierarchy_for([c.lower() for c in reversed(EMOTIV14)])
    assert hierarchy_for("DEAP") == deap32_hierarchy() == hierarchy_for([f"EEG {c}-REF" for c in DEAP32])
    assert hierarchy_for(SEED62[::-1]) == seed62_hierarchy()
    biosemi = hierarchy_for("biosemi64")
    assert biosemi.name == "tenten" and sorted(biosemi.channels) == sorted(montage_channels("biosemi64"))
    egi = hierarchy_for("GSN-HydroCel-64_1.0")
    assert egi.name == "positional" and len(egi.regions) == 8 and len(egi.channels) == 64
    with pytest.raises(DataError, match="twice"):
        hierarchy_for(["Fp1", "FP1", "Cz"])


def test_indices_in_and_assignment():
    h = deap32_hierarchy()
    data = np.arange(32)[:, None] * np.ones((1, 5))  # channel i holds value i, DEAP order
    reordered = data[h.indices_in([c.lower() for c in DEAP32])]
    assert [DEAP32[int(v)] for v in reordered[:, 0]] == list(h.channels)
    with pytest.raises(DataError, match="'FP1'"):
        h.indices_in(DEAP32[1:])
    a = emotiv14_histn().assignment()
    assert a.shape == (14, 4) and (a.sum(axis=1) == 1).all() and a.sum(axis=0).tolist() == [4, 3, 3, 4]
    assert a[EMOTIV14.index("O2"), 2] == 1  # O2 in PR


def test_with_peripheral():
    p = with_peripheral(emotiv14_histn(), ("ecg", "eda"))
    assert p.global_nodes == (GLOBAL_NODE, "ecg", "eda")
    np.testing.assert_array_equal(p.global_adjacency(), [[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    assert p.hierarchy.channels == EMOTIV14
    with pytest.raises(ConfigError, match="'FL'"):
        with_peripheral(emotiv14_histn(), ("ecg", "FL"))
    with pytest.raises(ConfigError, match="'ecg'"):
        with_peripheral(emotiv14_histn(), ("ecg", "ecg"))
    with pytest.raises(ConfigError, match="at least one"):
        with_peripheral(emotiv14_histn(), ())
    assert isinstance(p.hierarchy, RegionHierarchy)
