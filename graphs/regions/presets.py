"""Named region hierarchies (Emotiv-14 HiSTN, DEAP-32, SEED-62) and the choice of one for a dataset or montage."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mne

from biosig.errors import DataError
from graphs.adjacency import site
from graphs.positions import DEAP32, EMOTIV14, SEED62, TEMPLATE, canonical_name, montage_channels

from .hierarchy import RegionHierarchy
from .montage import hierarchy_from_positions, tenten_hierarchy


def emotiv14_histn() -> RegionHierarchy:
    """HiSTN's hierarchy for the 14-channel Emotiv EPOC (DREAMER), from the authors' code.

    FL = {AF3, F7, F3, FC5}, PL = {T7, P7, O1}, PR = {O2, P8, T8},
    FR = {FC6, F4, F8, AF4}; FL edges AF3-F3, F7-F3, F7-FC5, F3-FC5 and FR
    their mirror; chains T7-P7-O1 and O2-P8-T8; regions in a ring
    FL-PL-PR-FR-FL. The channel order equals DREAMER's.
    """
    return RegionHierarchy(
        name="emotiv14_histn",
        regions=(
            ("FL", ("AF3", "F7", "F3", "FC5")),
            ("PL", ("T7", "P7", "O1")),
            ("PR", ("O2", "P8", "T8")),
            ("FR", ("FC6", "F4", "F8", "AF4")),
        ),
        intra_edges=(
            ("AF3", "F3"), ("F7", "F3"), ("F7", "FC5"), ("F3", "FC5"),
            ("T7", "P7"), ("P7", "O1"),
            ("O2", "P8"), ("P8", "T8"),
            ("AF4", "F4"), ("F8", "F4"), ("F8", "FC6"), ("F4", "FC6"),
        ),  # fmt: skip
        region_edges=(("FL", "PL"), ("PL", "PR"), ("PR", "FR"), ("FR", "FL")),
    )


def deap32_hierarchy() -> RegionHierarchy:
    """:func:`~graphs.regions.montage.tenten_hierarchy` of DEAP's 32 channels (:data:`graphs.positions.DEAP32`).

    FL = {FP1, AF3, F3, F7, FC5, FC1}, FR its mirror, C = {C3, CP5, CP1, PZ, FZ, CZ, C4, CP6, CP2},
    TL = {T7}, TR = {T8}, PL = {P3, P7}, PR = {P4, P8}, O = {PO3, O1, OZ, PO4, O2}.
    """
    return tenten_hierarchy(DEAP32, name="deap32")


def seed62_hierarchy() -> RegionHierarchy:
    """:func:`~graphs.regions.montage.tenten_hierarchy` of SEED's 62 channels (:data:`graphs.positions.SEED62`).

    FL = {FP1, AF3, F7, F5, F3, F1, FC5, FC3, FC1}, FR its mirror, C = the C and CP rows
    plus FPZ, FZ, FCZ, PZ (18), TL = {FT7, T7, TP7}, TR its mirror, PL = {P7, P5, P3, P1},
    PR its mirror, O = the PO row, CB1, O1, OZ, O2, CB2 (12).
    """
    return tenten_hierarchy(SEED62, name="seed62")


#: Hierarchies known by name (case-insensitive): the datasets' and the hierarchies' own names.
NAMED_HIERARCHIES: dict[str, Callable[[], RegionHierarchy]] = {
    "emotiv14_histn": emotiv14_histn, "dreamer": emotiv14_histn, "emotiv14": emotiv14_histn,
    "deap": deap32_hierarchy, "deap32": deap32_hierarchy, "seed": seed62_hierarchy, "seed62": seed62_hierarchy,
}  # fmt: skip


def hierarchy_for(
    montage_or_channels: str | Sequence[str],
    montage: str | mne.channels.DigMontage = TEMPLATE,
) -> RegionHierarchy:
    """The hierarchy to use for a dataset, a montage or a channel list.

    * ``"dreamer"``/``"emotiv14"``/``"emotiv14_histn"`` or DREAMER's 14 channels: :func:`emotiv14_histn` (HiSTN's own);
    * ``"deap"``/``"deap32"`` or DEAP's 32 channels: :func:`deap32_hierarchy`;
    * ``"seed"``/``"seed62"`` or SEED's 62 channels: :func:`seed62_hierarchy`;
    * an MNE montage name (``"biosemi64"``, ``"GSN-HydroCel-64_1.0"``): that montage's channels;
    * other channels: :func:`~graphs.regions.montage.tenten_hierarchy` when all are 10-05 names, else
      :func:`~graphs.regions.montage.hierarchy_from_positions` (positions from ``montage``).

    Channel lists are compared case-insensitively and in any order; reorder data to the
    hierarchy with :meth:`~graphs.regions.hierarchy.RegionHierarchy.indices_in`.
    """
    if isinstance(montage_or_channels, str):
        if montage_or_channels.casefold() in NAMED_HIERARCHIES:
            return NAMED_HIERARCHIES[montage_or_channels.casefold()]()
        montage = montage_or_channels
        channels: Sequence[str] = montage_channels(montage)
    else:
        channels = montage_or_channels
    keys = {canonical_name(ch) for ch in channels}
    if len(keys) != len(channels):
        raise DataError(f"channel list {list(channels)} names an electrode twice")
    for known, make in ((EMOTIV14, emotiv14_histn), (DEAP32, deap32_hierarchy), (SEED62, seed62_hierarchy)):
        if keys == {canonical_name(ch) for ch in known}:
            return make()
    if all(site(ch) is not None for ch in channels):
        return tenten_hierarchy(channels, montage=montage)
    return hierarchy_from_positions(channels, n_regions=min(8, len(channels)), montage=montage)
