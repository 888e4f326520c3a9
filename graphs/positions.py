"""Electrode positions from MNE montages: 3-D head coordinates and their 2-D topomap projection.

No coordinate is written here: positions come from MNE's built-in montages,
read after ``set_montage`` so they are in MNE's head frame (metres), exactly
what MNE's own plots and interpolators see. Channel names are matched
case-insensitively after removing an ``EEG`` prefix and a reference suffix
(``"EEG Fp1-REF"``, ``"FP1"`` and ``"fp1"`` all name ``Fp1``).

Sites a montage lacks can be given as ``extra_positions`` (metres, head frame)
or are approximated from a documented neighbour (:data:`APPROXIMATE_SITES`):
SEED's Neuroscan cerebellar sites ``CB1``/``CB2`` are not in the 10-05
system; they sit over the cerebellum, below and slightly lateral to
``O1``/``O2``. The nearest 10-05 sites there are ``I1``/``I2`` (the inion row,
one 10 % step below ``O1``/``O2``), whose positions stand in: an
approximation of a few millimetres to centimetres, depending on the cap.

The 2-D projection is MNE's topomap projection
(:func:`mne.channels.layout._find_topomap_coords`: azimuthal equidistant about
the sphere's vertex, radius proportional to the polar angle). The sphere is
fitted once per montage to all of its electrodes
(:func:`mne.bem.fit_sphere_to_headshape`), so every channel subset of a montage
shares one projection. MNE's default sphere, ``(0, 0, 0, 0.095)`` m, sits
about 4 cm below the centre of the template montage in head coordinates and
would put Cz 1.8 cm anterior to the map centre; pass it as ``sphere`` to get
MNE's default picture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import mne
import numpy as np
from mne.channels.layout import _find_topomap_coords

from biosig.errors import ConfigError, DataError
from biosig.montage import standard_montage

#: DREAMER's Emotiv EPOC channels, in the dataset's order.
EMOTIV14: tuple[str, ...] = ("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4")

#: DEAP's 32 EEG channels in the Geneva order of the preprocessed files (TorchEEG ``DEAP_CHANNEL_LIST``).
DEAP32: tuple[str, ...] = (
    "FP1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "OZ", "PZ",
    "FP2", "AF4", "FZ", "F4", "F8", "FC6", "FC2", "CZ", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip

#: SEED's 62 channels in the order of the preprocessed files (TorchEEG ``SEED_CHANNEL_LIST``).
SEED62: tuple[str, ...] = (
    "FP1", "FPZ", "FP2", "AF3", "AF4", "F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6", "F8",
    "FT7", "FC5", "FC3", "FC1", "FCZ", "FC2", "FC4", "FC6", "FT8",
    "T7", "C5", "C3", "C1", "CZ", "C2", "C4", "C6", "T8",
    "TP7", "CP5", "CP3", "CP1", "CPZ", "CP2", "CP4", "CP6", "TP8",
    "P7", "P5", "P3", "P1", "PZ", "P2", "P4", "P6", "P8",
    "PO7", "PO5", "PO3", "POZ", "PO4", "PO6", "PO8", "CB1", "O1", "OZ", "O2", "CB2",
)  # fmt: skip

#: Sites missing from the 10-05 system and the template site used in their place (see module docstring).
APPROXIMATE_SITES: dict[str, str] = {"CB1": "I1", "CB2": "I2"}

#: Montage names accepted besides MNE's built-in ones: the template 10-05 montage.
TEMPLATE = "template"

_PREFIX = re.compile(r"^\s*EEG[\s:_]+", re.IGNORECASE)
# Only reference labels are stripped, so a bipolar derivation such as "Fp1-F7" is never read as "Fp1".
_REF_SUFFIX = re.compile(r"\s*-\s*(REF|LE|RE|AR|AVG|CAR|A1|A2|M1|M2|A1A2|M1M2)\s*$", re.IGNORECASE)


def canonical_name(name: str) -> str:
    """The lookup key of a channel name: ``EEG`` prefix and reference suffix removed, case-folded.

    >>> canonical_name("EEG Fp1-REF")
    'fp1'
    """
    return _REF_SUFFIX.sub("", _PREFIX.sub("", name)).strip().casefold()


@dataclass(frozen=True)
class _MontageTable:
    """One montage in MNE's head frame: names, positions (m), canonical-name index, fitted sphere."""

    name: str
    ch_names: tuple[str, ...]
    pos: np.ndarray
    index: dict[str, int]
    sphere: np.ndarray


def _table_from(montage: mne.channels.DigMontage, name: str) -> _MontageTable:
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage, on_missing="ignore", verbose="error")
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    radius, origin, _ = mne.bem.fit_sphere_to_headshape(info, dig_kinds=("eeg",), units="m", verbose="error")
    index = {canonical_name(ch): i for i, ch in enumerate(montage.ch_names)}
    return _MontageTable(name, tuple(montage.ch_names), pos, index, np.r_[origin, radius])


@lru_cache(maxsize=16)
def _named_table(name: str) -> _MontageTable:
    if name == TEMPLATE:
        return _table_from(standard_montage(), name)
    builtin = mne.channels.get_builtin_montages()
    if name not in builtin:
        raise ConfigError(f"montage {name!r} is unknown; use {TEMPLATE!r} or one of MNE's: {', '.join(builtin)}")
    return _table_from(mne.channels.make_standard_montage(name), name)


def _table(montage: str | mne.channels.DigMontage) -> _MontageTable:
    if isinstance(montage, mne.channels.DigMontage):
        return _table_from(montage, "custom montage")
    return _named_table(montage)


def _lookup(
    table: _MontageTable, ch_names: Sequence[str], extra_positions: Mapping[str, Sequence[float]] | None
) -> np.ndarray:
    extra = {canonical_name(k): np.asarray(v, float) for k, v in (extra_positions or {}).items()}
    for key, value in extra.items():
        if value.shape != (3,) or not np.isfinite(value).all():
            raise DataError(f"extra_positions[{key!r}] must be 3 finite coordinates in metres, got {value.tolist()}")
    approx = {canonical_name(k): canonical_name(v) for k, v in APPROXIMATE_SITES.items()}
    keys = [canonical_name(ch) for ch in ch_names]
    if len(set(keys)) != len(keys):
        dup = sorted({ch for ch, k in zip(ch_names, keys) if keys.count(k) > 1})
        raise DataError(f"channels {dup} name the same electrode")
    out = np.full((len(keys), 3), np.nan)
    for i, key in enumerate(keys):
        if key in extra:
            out[i] = extra[key]
        elif key in table.index:
            out[i] = table.pos[table.index[key]]
        elif approx.get(key) in table.index:
            out[i] = table.pos[table.index[approx[key]]]
    missing = [ch for ch, row in zip(ch_names, out) if np.isnan(row[0])]
    if missing:
        shown = ", ".join(table.ch_names[:12]) + (", ..." if len(table.ch_names) > 12 else "")
        raise DataError(
            f"channels {missing} are not in montage {table.name!r} ({len(table.ch_names)} sites: {shown}); "
            "pass their positions in extra_positions"
        )
    return out


def montage_channels(montage: str | mne.channels.DigMontage = TEMPLATE) -> tuple[str, ...]:
    """All channel names of a montage, in MNE's spelling and order."""
    return _table(montage).ch_names


def montage_sphere(montage: str | mne.channels.DigMontage = TEMPLATE) -> np.ndarray:
    """The head sphere ``(x, y, z, radius)`` in metres fitted to all of a montage's electrodes."""
    return _table(montage).sphere.copy()


def electrode_positions(
    ch_names: Sequence[str],
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
) -> np.ndarray:
    """3-D electrode positions in MNE's head frame.

    Parameters
    ----------
    ch_names
        Channel names; case, an ``EEG`` prefix and a reference suffix (``-REF``) are ignored.
    montage
        ``"template"`` (the 10-05 template of :func:`biosig.montage.standard_montage`),
        any name of :func:`mne.channels.get_builtin_montages` (``"biosemi32"``,
        ``"GSN-HydroCel-64_1.0"``, ...) or a :class:`mne.channels.DigMontage`.
    extra_positions
        ``name: (x, y, z)`` in metres, head frame, for sites the montage lacks;
        it takes precedence over the montage and over :data:`APPROXIMATE_SITES`.

    Returns
    -------
    np.ndarray
        Positions, shape ``(n_channels, 3)``, metres.

    Raises
    ------
    DataError
        A channel is neither in the montage, nor in ``extra_positions``, nor approximable;
        a name is given twice.
    """
    return _lookup(_table(montage), ch_names, extra_positions)


def project_positions(positions: np.ndarray, sphere: Sequence[float]) -> np.ndarray:
    """MNE's topomap projection of 3-D positions onto the plane, in metres.

    Parameters
    ----------
    positions
        Head-frame positions, shape ``(n_channels, 3)``, metres.
    sphere
        ``(x, y, z, radius)`` in metres: the projection is about the sphere's centre.

    Returns
    -------
    np.ndarray
        Shape ``(n_channels, 2)``, metres, x to the right ear, y to the nose. A site
        at distance ``r`` from the sphere's centre and polar angle ``theta`` lies at
        ``r * theta / 90 deg`` from the origin, in the direction of its azimuth.
    """
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise DataError(f"positions must have shape (n_channels, 3), got {positions.shape}")
    names = [f"ch{i}" for i in range(len(positions))]
    # MNE's projection works on an Info; a throw-away one carries the positions.
    info = mne.create_info(names, 1000.0, "eeg")
    info.set_montage(mne.channels.make_dig_montage(dict(zip(names, positions)), coord_frame="head"))
    sphere = np.asarray(sphere, float)
    if sphere.shape != (4,) or not sphere[3] > 0:
        raise ConfigError(f"sphere must be (x, y, z, radius) in metres with radius > 0, got {sphere.tolist()}")
    # MNE offsets the map by the sphere's (x, y); centring it keeps maps of one montage aligned at the origin.
    return _find_topomap_coords(info, None, ignore_overlap=True, sphere=sphere) - sphere[:2]


def projected_positions(
    ch_names: Sequence[str],
    montage: str | mne.channels.DigMontage = TEMPLATE,
    extra_positions: Mapping[str, Sequence[float]] | None = None,
    sphere: Sequence[float] | None = None,
) -> np.ndarray:
    """2-D topomap positions of channels, shape ``(n_channels, 2)``, metres.

    ``sphere`` defaults to the one fitted to the whole montage (:func:`montage_sphere`);
    other arguments as :func:`electrode_positions`.
    """
    table = _table(montage)
    return project_positions(_lookup(table, ch_names, extra_positions), table.sphere if sphere is None else sphere)
