"""Brain-region hierarchies: channels -> regions -> global, as used by hierarchical GNNs.

A :class:`RegionHierarchy` (:mod:`graphs.regions.hierarchy`) names the channel
order a model expects, the regions, and the edges inside and between them;
adjacency matrices derive from it, so one definition serves every model.

Hierarchies: HiSTN's own for DREAMER (:func:`emotiv14_histn`); a name rule for
10-05 montages (:func:`tenten_hierarchy`, with :func:`deap32_hierarchy` and
:func:`seed62_hierarchy`); k-means on positions for any other montage
(:func:`hierarchy_from_positions`); :func:`hierarchy_for` picks one
(:mod:`graphs.regions.montage`, :mod:`graphs.regions.presets`).
:func:`with_peripheral` adds ECG/EDA nodes at the global level
(:mod:`graphs.regions.peripheral`). :func:`parse_hierarchy` reads the forms a
config names a hierarchy in (:mod:`graphs.regions.parse`).
"""

from .hierarchy import RegionHierarchy
from .montage import hierarchy_from_positions, tenten_hierarchy, tenten_region
from .parse import parse_hierarchy
from .peripheral import GLOBAL_NODE, PeripheralHierarchy, with_peripheral
from .presets import NAMED_HIERARCHIES, deap32_hierarchy, emotiv14_histn, hierarchy_for, seed62_hierarchy

__all__ = [
    "GLOBAL_NODE",
    "NAMED_HIERARCHIES",
    "PeripheralHierarchy",
    "RegionHierarchy",
    "deap32_hierarchy",
    "emotiv14_histn",
    "hierarchy_for",
    "hierarchy_from_positions",
    "parse_hierarchy",
    "seed62_hierarchy",
    "tenten_hierarchy",
    "tenten_region",
    "with_peripheral",
]
