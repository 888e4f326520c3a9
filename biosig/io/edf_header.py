"""What an EDF/BDF header says, checked before MNE reads the file, and what MNE then does not say.

MNE's EDF reader trusts the header in ways that give wrong data silently;
:func:`check_edf` reads the header itself and refuses, with a
:class:`~biosig.errors.DataError` naming the file:

* a header whose record count and sizes disagree with the file size (MNE
  takes the length from the file: a truncated file, a header that lies);
* a file with no signal channels, only ``EDF Annotations`` (an EDF+
  annotation file such as a sleep hypnogram).

Then, on the loaded recording:

* :func:`rate_notes`: signals with different samples per data record are
  all resampled by MNE to the highest rate; a warning names each channel's
  stored rate;
* :func:`edf_units`: MNE scales only ``uV``/``µV`` and ``mV`` and reads every
  other physical dimension as volts. Units with a known prefix are scaled
  to SI here: voltages (``V``, ``mV``, ``uV``, ``µV``/``μV`` in Latin-1 or
  UTF-8, ``nV``, ``volts``...) to volts, conductances (``S``, ``mS``,
  ``uS``, ``µS``...) to siemens; an unknown unit (``kV``,
  ``furlong``) on an EEG, ECG, EOG, EMG or EDA channel is a DataError naming
  the channel and unit; other channels (temperature, respiration, ``%``...)
  keep their stored values and one warning lists their units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mne

from biosig.errors import DataError
from biosig.io.channels import si_factor

EDF_VERSIONS: dict[bytes, int] = {b"0       ": 2, b"\xffBIOSEMI": 3}  # version field -> bytes per sample
ANNOTATION_LABELS: tuple[str, ...] = ("EDF Annotations", "BDF Annotations")
#: Modalities whose values are voltages (EDA may be stored in volts or siemens): their unit must be known.
ELECTRICAL_MODALITIES: tuple[str, ...] = ("eeg", "ecg", "eog", "emg", "eda")
# The unit strings (Latin-1 decoded) that MNE's EDF reader scales; it reads every other one as volts.
_MNE_SCALED = {"\u03bcV": 1e-6, "\u00b5V": 1e-6, "\x83\xcaV": 1e-6, "uV": 1e-6, "mV": 1e-3}


@dataclass
class EdfHeader:
    """The parts of an EDF/BDF header this package checks.

    Attributes
    ----------
    labels
        Signal labels, annotation signals included, stripped.
    units
        Physical dimensions (Latin-1 decoded, stripped), one per signal.
    samples_per_record
        Samples of each signal in one data record.
    record_duration
        Length of a data record, s.
    """

    labels: list[str]
    units: list[str]
    samples_per_record: list[int]
    record_duration: float

    def signals(self) -> list[int]:
        """Indices of the signals that are not EDF+/BDF+ annotations."""
        return [i for i, label in enumerate(self.labels) if label not in ANNOTATION_LABELS]


def check_edf(path: Path) -> EdfHeader:
    """Read and check an EDF/BDF header against the file (see the module docstring).

    Raises
    ------
    DataError
        Naming the file: unreadable header, a size the header does not
        account for, no signal channels.
    """
    try:
        with path.open("rb") as f:
            head = f.read(256)
            n_signals = int(head[252:256].decode("ascii").strip())
            block = f.read(256 * n_signals)
        version = head[:8]
        n_records = int(head[236:244].decode("ascii").strip())
        duration = float(head[244:252].decode("ascii").strip())
        labels = [block[16 * i : 16 * i + 16].decode("latin-1").strip() for i in range(n_signals)]
        unit_block = block[96 * n_signals : 104 * n_signals]
        units = [unit_block[8 * i : 8 * i + 8].decode("latin-1").strip() for i in range(n_signals)]
        spr_block = block[216 * n_signals : 224 * n_signals]
        spr = [int(spr_block[8 * i : 8 * i + 8].decode("ascii").strip()) for i in range(n_signals)]
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: cannot read EDF/BDF header ({exc})") from exc
    if version not in EDF_VERSIONS or n_signals < 1 or sum(spr) < 1:
        raise DataError(f"{path}: not an EDF/BDF header (version {version!r}, {n_signals} signals)")
    header_bytes = 256 * (n_signals + 1)
    record_bytes = sum(spr) * EDF_VERSIONS[version]
    data_bytes = path.stat().st_size - header_bytes
    if n_records == -1:  # allowed by the spec while recording: the size decides
        n_records = data_bytes // record_bytes
    if n_records < 1 or n_records * record_bytes != data_bytes:
        raise DataError(
            f"{path}: the header declares {n_records} data records of {record_bytes} bytes "
            f"({n_records * record_bytes} bytes) but the file holds {data_bytes} bytes of data after its "
            f"{header_bytes}-byte header: the file is truncated or its header is wrong"
        )
    header = EdfHeader(labels, units, spr, duration)
    if not header.signals():
        raise DataError(
            f"{path}: has no signal channels, only {labels} (an EDF+ annotation file such as a hypnogram); "
            "there is nothing to read as a recording"
        )
    return header


def rate_notes(header: EdfHeader, path: Path) -> list[str]:
    """A warning when the signals have different rates (MNE resamples them all to the highest)."""
    if not header.record_duration > 0:
        return []
    rates = {header.labels[i]: header.samples_per_record[i] / header.record_duration for i in header.signals()}
    if len(set(rates.values())) < 2:
        return []
    listed = ", ".join(f"{name} {rate:g} Hz" for name, rate in rates.items())
    top = max(rates.values())
    return [f"{path.name}: the signals have different sampling rates ({listed}); MNE resampled all to {top:g} Hz"]


def edf_units(raw: mne.io.BaseRaw, header: EdfHeader, modalities: list[str], path: Path) -> list[str]:
    """Scale the EDF channels of ``raw`` (in place) to SI by their physical dimension; notes to keep.

    Parameters
    ----------
    raw
        The recording as MNE read it (loaded): the header's signals in order.
    header
        The file's header (:func:`check_edf`).
    modalities
        Each channel's modality, aligned with ``raw.ch_names``.
    path
        The file, for messages.

    Raises
    ------
    DataError
        An EEG, ECG, EOG, EMG or EDA channel in a unit that is no known voltage or conductance.
    """
    units = [header.units[i] for i in header.signals()]
    if len(units) != len(raw.ch_names):
        raise DataError(f"{path}: MNE read {len(raw.ch_names)} channels where the header has {len(units)} signals")
    kept = []
    for name, modality, stored in zip(raw.ch_names, modalities, units):
        factor = _unit_factor(stored)
        if factor is None and stored and modality in ELECTRICAL_MODALITIES:
            raise DataError(
                f"{path}: channel {name!r} ({modality.upper()}) has physical unit {stored!r}, which is no known "
                "voltage (V, mV, uV, µV, nV) or conductance (S, mS, uS, µS)"
            )
        if factor is None:
            if stored:
                kept.append(f"{name} ({stored})")
            continue
        correction = factor / _MNE_SCALED.get(stored, 1.0)
        if correction != 1.0:
            raw.apply_function(lambda x, f=correction: x * f, picks=[name], channel_wise=True, verbose="error")
    if kept:
        return [f"{path.name}: channels in units other than volts keep their stored values: {', '.join(kept)}"]
    return []


def _unit_factor(stored: str) -> float | None:
    """Factor to SI of a physical dimension decoded as Latin-1 (as MNE does), also read as UTF-8."""
    if stored == "\x83\xcaV":  # Shift-JIS mu
        return 1e-6
    factor = si_factor(stored)
    if factor is None:
        try:
            factor = si_factor(stored.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            return None
    return factor
