"""Every edge of HiSTN's Emotiv-14 hierarchy, as the authors' create_adj() in Dreamer_10cv.py builds it."""

from __future__ import annotations

import numpy as np

from graphs.regions.presets import emotiv14_histn

REGIONS = {
    "FL": ("AF3", "F7", "F3", "FC5"),
    "PL": ("T7", "P7", "O1"),
    "PR": ("O2", "P8", "T8"),
    "FR": ("FC6", "F4", "F8", "AF4"),
}


def _authors_adjacency() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The matrices of the authors' create_adj(): A1 (FL), A2 (PL), A3 = A2 (PR), A4 = A1[::-1, ::-1] (FR), A_R."""
    a1 = np.zeros((4, 4))
    for i, j in ((0, 2), (1, 2), (1, 3), (2, 3)):
        a1[i, j] = a1[j, i] = 1.0
    a2 = np.zeros((3, 3))
    for i, j in ((0, 1), (1, 2)):
        a2[i, j] = a2[j, i] = 1.0
    ring = np.zeros((4, 4))
    for i, j in ((0, 1), (1, 2), (2, 3), (0, 3)):
        ring[i, j] = ring[j, i] = 1.0
    return {"FL": a1, "PL": a2, "PR": a2.copy(), "FR": a1[::-1, ::-1]}, ring


def test_regions_in_the_authors_channel_order() -> None:
    assert dict(emotiv14_histn().regions) == REGIONS


def test_every_intra_region_edge_equals_the_authors_matrices() -> None:
    hierarchy = emotiv14_histn()
    authors, ring = _authors_adjacency()
    for region, matrix in authors.items():
        np.testing.assert_array_equal(hierarchy.intra_adjacency(region), matrix, err_msg=region)
    np.testing.assert_array_equal(hierarchy.region_adjacency(), ring)


def test_the_exact_edge_list() -> None:
    expected = {
        frozenset(e)
        for e in (
            ("AF3", "F3"), ("F7", "F3"), ("F7", "FC5"), ("F3", "FC5"),  # FL
            ("T7", "P7"), ("P7", "O1"),  # PL
            ("O2", "P8"), ("P8", "T8"),  # PR
            ("AF4", "F4"), ("F8", "F4"), ("F8", "FC6"), ("F4", "FC6"),  # FR, the mirror of FL
        )
    }  # fmt: skip
    hierarchy = emotiv14_histn()
    edges = [frozenset(e) for e in hierarchy.intra_edges]
    assert len(edges) == len(set(edges)) == 12
    assert set(edges) == expected
    regions = {frozenset(e) for e in hierarchy.region_edges}
    assert regions == {frozenset(e) for e in (("FL", "PL"), ("PL", "PR"), ("PR", "FR"), ("FR", "FL"))}
