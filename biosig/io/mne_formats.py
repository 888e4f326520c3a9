"""Recordings in the formats :func:`mne.io.read_raw` reads, split into the Session's modalities.

MNE does the reading (EDF/EDF+, BDF, BrainVision, EEGLAB, FIF, GDF, CNT);
this module adds what a session needs on top:

* an EDF/BDF header is checked against the file size before MNE sees it,
  because MNE silently takes the length from the file when the two disagree
  (a truncated file, a header that lies about its record count);
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
from biosig.io.channels import MODALITY_TYPES, plan_channels, set_standard_montage, si_factor
from biosig.io.files import _drop_export_padding

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
_EDF_BYTES_PER_SAMPLE = {b"0       ": 2, b"\xffBIOSEMI": 3}


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
        the file size, unknown channel in ``channel_types``.
    """
    path = Path(path)
    suffix = mne_suffix(path) or path.suffix.lower()
    fmt = MNE_FORMATS.get(suffix, suffix)
    if suffix in (".edf", ".bdf"):
        _check_edf_size(path)
    notes: list[str] = []
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
    if suffix in (".edf", ".bdf"):
        raw = _drop_export_padding(raw)

    plan = plan_channels(raw.ch_names, raw.get_channel_types(), channel_types, source=str(path))
    notes += plan.warnings
    _scale_conductance(raw, plan.modalities)
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
    return raws, notes


def _check_edf_size(path: Path) -> None:
    """DataError when an EDF/BDF header and the file size disagree (MNE would silently use the size)."""
    try:
        with path.open("rb") as f:
            head = f.read(256)
            n_signals = int(head[252:256].decode("ascii").strip())
            spr_block = f.read(256 * n_signals)[216 * n_signals : 224 * n_signals]
        version = head[:8]
        n_records = int(head[236:244].decode("ascii").strip())
        per_record = sum(int(spr_block[8 * i : 8 * i + 8].decode("ascii").strip()) for i in range(n_signals))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: cannot read EDF/BDF header ({exc})") from exc
    if version not in _EDF_BYTES_PER_SAMPLE or n_signals < 1 or per_record < 1:
        raise DataError(f"{path}: not an EDF/BDF header (version {version!r}, {n_signals} signals)")
    header_bytes = 256 * (n_signals + 1)
    record_bytes = per_record * _EDF_BYTES_PER_SAMPLE[version]
    data_bytes = path.stat().st_size - header_bytes
    if n_records == -1:  # allowed by the spec while recording: the size decides
        n_records = data_bytes // record_bytes
    if n_records < 1 or n_records * record_bytes != data_bytes:
        raise DataError(
            f"{path}: the header declares {n_records} data records of {record_bytes} bytes "
            f"({n_records * record_bytes} bytes) but the file holds {data_bytes} bytes of data after its "
            f"{header_bytes}-byte header: the file is truncated or its header is wrong"
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
    """EDA stored in µS or mS (EDF, BrainVision) to siemens; MNE scales only voltages."""
    units = getattr(raw, "_orig_units", None) or {}
    for name, modality in zip(raw.ch_names, modalities):
        factor = si_factor(units.get(name))
        if modality == "eda" and factor is not None and str(units[name]).strip()[-1:] == "S":
            raw.apply_function(lambda x, f=factor: x * f, picks=[name], channel_wise=True, verbose="error")
