"""Region hierarchies derived from a montage: a name rule for 10-05 channels, k-means on positions otherwise.

:func:`tenten_hierarchy` groups 10-05-named channels into lobes and
hemispheres by name; :func:`hierarchy_from_positions` clusters any montage's
topomap positions. Both join each channel to its nearest neighbours inside
its region and the regions by the Delaunay triangulation of their centroids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mne
import numpy as np
from scipy.spatial import Delaunay, QhullError
from sklearn.cluster import KMeans

from biosig.errors import ConfigError, DataError
from graphs.adjacency import hemisphere, knn_adjacency, site
from graphs.positions import TEMPLATE, electrode_positions, montage_sphere, project_positions, projected_positions

from .hierarchy import RegionHierarchy


# Lobe of each 10-05 row prefix (see tenten_hierarchy).
_LOBES: dict[str, str] = {
    **dict.fromkeys(("n", "nfp", "fp", "afp", "af", "aff", "f", "ffc", "fc"), "F"),
    **dict.fromkeys(("fft", "ft", "ftt", "t", "ttp", "tp", "tpp", "a", "m"), "T"),
    **dict.fromkeys(("fcc", "c", "ccp", "cp"), "C"),
    **dict.fromkeys(("cpp", "p", "ppo"), "P"),
    **dict.fromkeys(("po", "poo", "o", "oi", "i", "cb"), "O"),
}
_REGION_ORDER = ("FL", "FR", "C", "TL", "TR", "PL", "PR", "O")


def tenten_region(name: str) -> str:
    """The region of a 10-05 site in :func:`tenten_hierarchy`: FL, FR, C, TL, TR, PL, PR or O.

    Raises
    ------
    DataError
        The name is not a 10-05 site name.
    """
    parsed = site(name)
    if parsed is None:
        raise DataError(f"channel {name!r} is not a 10-05 site name; use hierarchy_from_positions")
    lobe = _LOBES[parsed[0]]
    side = hemisphere(name)
    if lobe == "O":
        return "O"
    if side == "midline" or lobe == "C":
        return "C"
    return lobe + ("L" if side == "left" else "R")


def tenten_hierarchy(
    ch_names: Sequence[str],
    name: str = "tenten",
    k: int = 3,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
) -> RegionHierarchy:
    """Region hierarchy of 10-05-named channels, from the names (regions) and positions (edges).

    Regions, in this order (empty ones left out):

    * ``FL``/``FR``: frontal sites (Fp, AF, F, FC rows) of the left (odd) / right (even) hemisphere;
    * ``C``: central sites (C, CP rows) of both hemispheres plus every midline (z) site
      from Fpz back to Pz: the one region straddling the midline;
    * ``TL``/``TR``: temporal sites (FT, T, TP rows; earlobes and mastoids);
    * ``PL``/``PR``: parietal sites (P row);
    * ``O``: occipital and below (PO, O, I rows, SEED's CB1/CB2), midline included.

    Intra-region edges: each channel to its ``k`` nearest channels of the same region
    (3-D distance, symmetrised; fewer when the region is smaller). Region edges:
    the Delaunay triangulation of the regions' centroids on the topomap plane
    (every pair when there are at most 3 regions).

    Parameters
    ----------
    ch_names
        10-05 site names, any case (``FP1``, ``Fp1``, ``EEG Fp1-REF``); the hierarchy keeps this spelling.
    name
        The hierarchy's name.
    k
        Neighbours per channel inside a region.
    montage, extra_positions
        Electrode positions (:func:`graphs.positions.electrode_positions`).
    """
    by_region: dict[str, list[str]] = {r: [] for r in _REGION_ORDER}
    for ch in ch_names:
        by_region[tenten_region(ch)].append(ch)
    groups = [(r, chs) for r, chs in by_region.items() if chs]
    return _hierarchy(name, groups, ch_names, k, montage, extra_positions)


def hierarchy_from_positions(
    ch_names: Sequence[str],
    n_regions: int = 8,
    name: str = "positional",
    k: int = 3,
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
    seed: int = 0,
) -> RegionHierarchy:
    """Region hierarchy of any montage: k-means clusters of the topomap positions.

    Regions ``R1``, ``R2``, ... are :class:`sklearn.cluster.KMeans` clusters (``n_init=10``,
    ``random_state=seed``) of the 2-D projected positions, numbered front to back by
    centroid (decreasing y, rounded to 1 um; left to right among equals); edges as in
    :func:`tenten_hierarchy`.
    """
    if not 1 <= n_regions <= len(ch_names):
        raise ConfigError(f"n_regions must be between 1 and the {len(ch_names)} channels, got {n_regions}")
    pos = projected_positions(ch_names, montage, extra_positions)
    km = KMeans(n_clusters=n_regions, n_init=10, random_state=seed).fit(pos)
    centroids = km.cluster_centers_
    order = np.lexsort((centroids[:, 0], -np.round(centroids[:, 1], 6)))
    groups = [(f"R{r + 1}", [ch for ch, lab in zip(ch_names, km.labels_) if lab == c]) for r, c in enumerate(order)]
    return _hierarchy(name, groups, ch_names, k, montage, extra_positions)


def _hierarchy(
    name: str,
    groups: list[tuple[str, list[str]]],
    ch_names: Sequence[str],
    k: int,
    montage: str | mne.channels.DigMontage,
    extra_positions: Mapping[str, Sequence[float]] | None,
) -> RegionHierarchy:
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    pos3 = dict(zip(ch_names, electrode_positions(ch_names, montage, extra_positions)))
    sphere = montage_sphere(montage)
    intra: list[tuple[str, str]] = []
    centroids = []
    for _, chs in groups:
        xyz = np.array([pos3[ch] for ch in chs])
        centroids.append(project_positions(xyz, sphere).mean(axis=0))
        if len(chs) > 1:
            i, j = np.nonzero(np.triu(knn_adjacency(xyz, min(k, len(chs) - 1))))
            intra += [(chs[a], chs[b]) for a, b in zip(i, j)]
    names = [r for r, _ in groups]
    return RegionHierarchy(
        name=name,
        regions=tuple((r, tuple(chs)) for r, chs in groups),
        intra_edges=tuple(intra),
        region_edges=tuple((names[a], names[b]) for a, b in _delaunay_edges(np.array(centroids))),
    )


def _delaunay_edges(points: np.ndarray) -> list[tuple[int, int]]:
    """Undirected edges ``(i < j)`` of the Delaunay triangulation of 2-D points; all pairs for <= 3 points."""
    n = len(points)
    if n <= 3:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    try:
        simplices = Delaunay(points).simplices
    except QhullError as err:
        raise DataError(f"region centroids {points.round(4).tolist()} are degenerate (collinear?): {err}") from err
    edges = np.sort(simplices[:, [0, 1, 1, 2, 0, 2]].reshape(-1, 2), axis=1)
    return [tuple(map(int, e)) for e in np.unique(edges, axis=0)]
