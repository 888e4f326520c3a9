"""Recordings in the formats :func:`mne.io.read_raw` reads, split into the Session's modalities.

MNE does the reading (EDF/EDF+, BDF, BrainVision, EEGLAB, FIF, GDF, CNT);
this module adds what a session needs on top:

* an EDF/BDF header is checked before MNE sees it and its units and rates
  after (:mod:`biosig.io.edf_header`: the file size, annotation-only files,
  physical units, signals at different rates);
* a BrainVision header's ``DataFile=``/``MarkerFile=`` must name files beside
  it (MNE would read any path it names);
* a header claiming far more samples than its data files could hold is
  refused before anything is loaded into memory;
* channel names and types go through :func:`biosig.io.channels.plan_channels`
  (overridable with ``channel_types``), conductances stored in µS/mS are
  scaled to siemens, the EEG gets the template 10-05 montage;
* the edge padding EDF export adds to fill the last data record is cropped.

Every failure of the underlying reader becomes a
:class:`~biosig.errors.DataError` naming the file; MNE's warnings are kept in
the returned warning list.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import mne

from biosig.errors import BiosigError, DataError
from biosig.io.channels import MODALITY_TYPES, ChannelPlan, plan_channels, set_standard_montage, si_factor
from biosig.io.edf_header import check_edf, edf_units, rate_notes
from biosig.io.files import drop_export_padding

#: File suffix -> format name, for the files :func:`read_mne` reads.
MNE_FORMATS: dict[str, str] = {
    ".edf": "EDF/EDF+",
    ".bdf": "BDF",
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".gdf": "GDF",
    ".cnt": "Neuroscan CNT",
}

# Preloading converts samples to float64 (8 bytes); stored samples take at least 1 byte.
# A header that asks for more than this many samples per byte on disk is lying.
_MAX_SAMPLES_PER_BYTE = 1.0
_BRAINVISION_FILE_KEYS = ("datafile", "markerfile")


def mne_suffix(path: Path) -> str | None:
    """The :data:`MNE_FORMATS` key that ``path`` ends with, or None."""
    name = path.name.lower()
    return next((suffix for suffix in MNE_FORMATS if name.endswith(suffix)), None)


def read_mne(
    path: Path, channel_types: Mapping[str, str] | None = None
) -> tuple[dict[str, mne.io.BaseRaw], list[str]]:
    """Read one MNE-readable file and split it by modality.

    Parameters
    ----------
    path
        The file (for BrainVision the ``.vhdr`` header).
    channel_types
        Channel name (as stored or normalised) -> type, overriding the
        inferred ones (see :func:`biosig.io.channels.plan_channels`).

    Returns
    -------
    raws
        One :class:`mne.io.Raw` per modality (keys of
        :data:`~biosig.io.channels.MODALITY_TYPES`), each with all the file's
        annotations; the EEG with the 10-05 montage where its names allow.
    warnings
        Notes for ``session.info["warnings"]``: MNE's warnings, demoted channels.

    Raises
    ------
    DataError
        Naming the file: unreadable, truncated, a header inconsistent with
        the file size, an EDF with no signal channels or an electrical channel
        in an unknown unit, a BrainVision data or marker file outside the
        header's folder, unknown channel in ``channel_types``.
    """
    path = Path(path)
    suffix = mne_suffix(path) or path.suffix.lower()
    fmt = MNE_FORMATS.get(suffix, suffix)
    is_edf = suffix in (".edf", ".bdf")
    notes: list[str] = []
    if is_edf:
        header = check_edf(path)
        notes += rate_notes(header, path)
    elif suffix == ".vhdr":
        _check_brainvision_files(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = mne.io.read_raw(path, preload=False, verbose="warning")
            _check_claimed_size(raw, path, fmt)
            raw.load_data(verbose="error")
    except BiosigError:
        raise
    except Exception as exc:  # untrusted file: any failure inside the reader is bad data, not a bug of ours
        raise DataError(f"{path}: cannot read {fmt} ({type(exc).__name__}: {exc})") from exc
    notes += [f"{path.name}: {w.message}" for w in caught]
    if is_edf:
        raw = drop_export_padding(raw)

    plan = plan_channels(raw.ch_names, raw.get_channel_types(), channel_types, source=str(path))
    notes += plan.warnings
    if is_edf:
        notes += edf_units(raw, header, plan.modalities, path)
    else:
        _scale_conductance(raw, plan.modalities)
    return split_by_modality(raw, plan), notes


def split_by_modality(raw: mne.io.BaseRaw, plan: ChannelPlan) -> dict[str, mne.io.BaseRaw]:
    """``raw`` (loaded) renamed and typed as ``plan`` says, then one copy per modality; the EEG with the 10-05 montage.

    ``raw`` itself is renamed and retyped in place.
    """
    raw.rename_channels(dict(zip(raw.ch_names, plan.names)), verbose="error")
    types = {name: MODALITY_TYPES[m] for name, m in zip(plan.names, plan.modalities)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "unit changed from V to NA": intended, the type is new
        raw.set_channel_types(types, on_unit_change="ignore", verbose="error")
    raws = {}
    for modality, picks in plan.groups().items():
        part = raw.copy().pick(picks, verbose="error")
        if modality == "eeg":
            set_standard_montage(part)
        raws[modality] = part
    return raws


def _check_brainvision_files(header: Path) -> None:
    """DataError unless the ``DataFile=`` and ``MarkerFile=`` of a BrainVision header name files beside it.

    MNE joins the header's folder with whatever the key says, so ``DataFile=/etc/passwd`` or
    ``../x.eeg`` would be read as EEG. Only a bare file name in the header's folder is accepted.
    """
    try:
        text = header.read_bytes().decode("latin-1")
    except OSError as exc:
        raise DataError(f"{header}: cannot read the BrainVision header ({exc})") from exc
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key.lower() not in _BRAINVISION_FILE_KEYS or not value:
            continue
        beside = header.parent / value
        outside = Path(value).name != value or "\\" in value or value in (".", "..")
        if outside or (beside.exists() and not beside.is_file()):
            raise DataError(
                f"{header}: {key}={value!r} must name a regular file in the header's own folder "
                f"({header.parent}); BrainVision data and marker files sit beside their header"
            )


def _check_claimed_size(raw: mne.io.BaseRaw, path: Path, fmt: str) -> None:
    """Refuse a header whose sample count no data file of this size could hold."""
    if path.name.lower().endswith(".gz"):
        return  # compressed: the ratio says nothing
    files = {Path(f) for f in raw.filenames if f is not None} | {path}
    stored = sum(f.stat().st_size for f in files if f.is_file())
    claimed = raw.n_times * len(raw.ch_names)
    if claimed > _MAX_SAMPLES_PER_BYTE * stored:
        raise DataError(
            f"{path}: the {fmt} header claims {raw.n_times} samples x {len(raw.ch_names)} channels but the data "
            f"files hold only {stored} bytes: the file is truncated or its header is wrong"
        )


def _scale_conductance(raw: mne.io.BaseRaw, modalities: list[str]) -> None:
    """EDA stored in µS or mS (BrainVision, GDF...) to siemens; MNE scales only voltages (EDF: edf_units)."""
    units = getattr(raw, "_orig_units", None) or {}
    for name, modality in zip(raw.ch_names, modalities):
        factor = si_factor(units.get(name))
        if modality == "eda" and factor is not None and str(units[name]).strip()[-1:] == "S":
            raw.apply_function(lambda x, f=factor: x * f, picks=[name], channel_wise=True, verbose="error")
