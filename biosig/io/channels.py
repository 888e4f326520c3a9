"""Channel names, types and units of recorded data, and the signal blocks readers hand over.

Files from other labs and devices name the same electrode many ways (``EEG
Fp1-REF``, ``FP1``, ``Fp1.``) and often say nothing about channel types (EDF
calls every channel EEG). This module turns those into the package's
conventions:

* :func:`normalise_name`: the 10-05 spelling of an electrode (``Fp1``,
  ``AF3``), a type prefix (``EEG ``, ``POL ``) and a reference suffix
  (``-REF``, ``-LE``, ``-AVG``) removed;
* :func:`infer_modality`: a channel's modality from its name, the type the
  file declares and the montage (see its docstring for the precedence);
* :func:`plan_channels`: both for a whole recording, with the user's
  ``channel_types`` overrides, unique names, and EEG channels without a
  montage position demoted to ``misc``;
* :func:`si_factor`: the factor to SI units (V, S) of a unit string.

A *modality* is the session slot a channel goes to (``eeg``, ``ecg``,
``eda``, or an ``extra`` key such as ``bvp``); :data:`MODALITY_TYPES` gives
the MNE channel type of each.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import ConfigError, DataError
from biosig.montage import standard_montage

#: Modality of a channel -> its MNE channel type. ``eeg``, ``ecg`` and ``eda``
#: fill the Session's own fields, the others go to ``Session.extra``.
MODALITY_TYPES: dict[str, str] = {
    "eeg": "eeg",
    "ecg": "ecg",
    "eda": "gsr",
    "eog": "eog",
    "emg": "emg",
    "resp": "resp",
    "bvp": "bio",
    "temp": "temperature",
    "acc": "misc",
    "hr": "misc",
    "stim": "stim",
    "misc": "misc",
}

#: The modalities with their own Session field.
CORE_MODALITIES: tuple[str, ...] = ("eeg", "ecg", "eda")

# Other spellings of a modality, in channel_types options, XDF stream/channel
# types and MNE channel types.
_ALIASES: dict[str, str] = {
    "gsr": "eda",
    "ekg": "ecg",
    "ppg": "bvp",
    "bio": "bvp",
    "pleth": "bvp",
    "temperature": "temp",
    "rsp": "resp",
    "respiration": "resp",
    "accelerometer": "acc",
    "trigger": "stim",
    "markers": "stim",
}

# Name patterns, tried in order on the upper-cased name; the first match wins.
_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (modality, re.compile(pattern))
    for modality, pattern in (
        ("stim", r"^(STATUS|TRIGGER|TRIG|TRG|STI ?\d*|STIM\w*|MARKERS?|EVENTS?)$"),
        ("ecg", r"^(ECG|EKG)"),
        ("eda", r"^(EDA|GSR|SCL|SCR|SC|SKIN ?COND\w*)(?![A-Z])"),
        ("eog", r"^[HV]?EOG|EOG$"),
        ("emg", r"^EMG"),
        ("resp", r"^(RESP|RSP|BREATH|THOR|ABDO)"),
        ("bvp", r"^(BVP|PPG|PLETH|PULSE)"),
        ("temp", r"^(TEMP|SKT)"),
        ("acc", r"^ACC"),
        ("hr", r"^(HR|HEART ?RATE)$"),
        ("eeg", r"^EEG"),
    )
)
_EEG_PREFIX = re.compile(r"^(EEG|POL)[\s_:]+(?=\S)", re.IGNORECASE)
_REF_SUFFIX = re.compile(r"[-_ ](REF|LE|RE|AVG|AV|AR|CAR)$", re.IGNORECASE)
_REPEATED_TYPE = re.compile(r"^(ECG|EKG|EOG|EMG|RESP)\s+(?=\1)", re.IGNORECASE)

# Factors to SI. Case matters: "mS" is millisiemens, "ms" would be milliseconds.
_UNIT_FACTORS: dict[str, float] = {
    "V": 1.0,
    "mV": 1e-3,
    "uV": 1e-6,
    "µV": 1e-6,
    "μV": 1e-6,
    "nV": 1e-9,
    "volts": 1.0,
    "millivolts": 1e-3,
    "microvolts": 1e-6,
    "nanovolts": 1e-9,
    "S": 1.0,
    "mS": 1e-3,
    "uS": 1e-6,
    "µS": 1e-6,
    "μS": 1e-6,
    "nS": 1e-9,
    "siemens": 1.0,
    "millisiemens": 1e-3,
    "microsiemens": 1e-6,
}


@lru_cache(maxsize=1)
def _montage_names() -> dict[str, str]:
    """Lower-cased 10-05 name -> its spelling in the template montage."""
    return {name.lower(): name for name in standard_montage().ch_names}


def canonical_modality(name: str) -> str | None:
    """The modality a type word means (``"GSR"`` -> ``"eda"``), or None when it names none."""
    word = str(name).strip().lower()
    word = _ALIASES.get(word, word)
    return word if word in MODALITY_TYPES else None


def normalise_name(name: str) -> str:
    """A channel name in the package's spelling.

    Strips surrounding space and trailing dots (PhysioNet's ``Fc5.``), an
    ``EEG``/``POL`` type prefix, a reference suffix (``-REF``, ``-LE``,
    ``-AVG``...) and a repeated type word (``ECG ECG`` -> ``ECG``); a name that
    is then a 10-05 electrode gets the montage's spelling (``FP1`` -> ``Fp1``).
    Anything else is returned stripped but otherwise unchanged.

    Examples
    --------
    >>> [normalise_name(n) for n in ("EEG Fp1-REF", "FP1", "EEG AF3", "Fc5.", "ECG ECG")]
    ['Fp1', 'Fp1', 'AF3', 'FC5', 'ECG']
    """
    text = str(name).strip().rstrip(".").strip()
    text = _REPEATED_TYPE.sub("", text)
    bare = _REF_SUFFIX.sub("", _EEG_PREFIX.sub("", text)).strip()
    return _montage_names().get(bare.lower(), bare if bare != text and bare else text)


def has_position(name: str) -> bool:
    """Whether ``name`` (already normalised) is an electrode of the 10-05 template montage."""
    return name in _montage_names().values()


def infer_modality(name: str, declared: str | None = None) -> str:
    """The modality of one channel.

    Precedence: a name that says a non-EEG type (``ECG``, ``EDA``/``GSR``,
    ``EOG``, ``Status``/``TRG``...) > a non-EEG type the file declares (FIF,
    XDF, BrainVision) > EEG when the name or the file says so or the name is a
    10-05 electrode > ``misc``. A declared ``eeg`` counts least because
    formats like EDF call every channel EEG.

    Parameters
    ----------
    name
        The channel name as stored in the file.
    declared
        The type the file gives, in any spelling :func:`canonical_modality`
        knows (``"EEG"``, ``"gsr"``, ``"temperature"``...), or None.
    """
    by_name = _modality_by_name(normalise_name(name)) or _modality_by_name(name)
    if by_name not in (None, "eeg"):
        return by_name
    file_type = canonical_modality(declared) if declared is not None else None
    if file_type not in (None, "eeg"):
        return file_type
    if by_name == "eeg" or file_type == "eeg" or has_position(normalise_name(name)):
        return "eeg"
    return "misc"


def _modality_by_name(name: str) -> str | None:
    upper = str(name).strip().upper()
    return next((modality for modality, rule in _NAME_RULES if rule.search(upper)), None)


@dataclass(frozen=True)
class ChannelPlan:
    """What a reader does with a recording's channels.

    Attributes
    ----------
    names
        New channel names, unique, in the file's order.
    modalities
        Modality of each channel (keys of :data:`MODALITY_TYPES`).
    warnings
        What was decided that a user should know (demoted channels, kept names).
    """

    names: list[str]
    modalities: list[str]
    warnings: list[str]

    def groups(self) -> dict[str, list[int]]:
        """Channel indices per modality, in order of first appearance."""
        out: dict[str, list[int]] = {}
        for index, modality in enumerate(self.modalities):
            out.setdefault(modality, []).append(index)
        return out


def plan_channels(
    names: Sequence[str],
    declared: Sequence[str | None] | None = None,
    channel_types: Mapping[str, str] | None = None,
    *,
    source: str,
) -> ChannelPlan:
    """Names and modalities of a recording's channels.

    Parameters
    ----------
    names
        Channel names as stored, ``(n_channels,)``.
    declared
        Type each channel has in the file (see :func:`infer_modality`), or None.
    channel_types
        Overrides, channel name (as stored or normalised) -> modality or MNE
        type (``"ecg"``, ``"eda"``/``"gsr"``, ``"eog"``, ``"resp"``, ``"bvp"``,
        ``"misc"``...). They win over every inference.
    source
        The file (and stream) for messages.

    Raises
    ------
    ConfigError
        An override names an unknown type.
    DataError
        An override names a channel the recording lacks.
    """
    names = [str(n) for n in names]
    declared = list(declared) if declared is not None else [None] * len(names)
    if len(declared) != len(names):
        raise DataError(f"{source}: {len(names)} channel names but {len(declared)} channel types")
    overrides = _resolve_overrides(names, channel_types or {}, source)
    warnings: list[str] = []
    new = [normalise_name(n) for n in names]
    duplicated = {n for n, count in Counter(new).items() if count > 1}
    if duplicated:
        warnings.append(
            f"{source}: channels {sorted(duplicated)} would share a name after normalisation; kept as stored"
        )
        new = [orig if n in duplicated else n for orig, n in zip(names, new)]
    if len(set(new)) < len(new):
        raise DataError(f"{source}: duplicate channel names {sorted(n for n, c in Counter(new).items() if c > 1)}")
    modalities = [overrides.get(i) or infer_modality(n, d) for i, (n, d) in enumerate(zip(names, declared))]
    eeg = [i for i, m in enumerate(modalities) if m == "eeg"]
    positioned = [i for i in eeg if has_position(new[i])]
    # A recording with 10-05 electrodes treats its other EEG-typed channels
    # (references like "A2-A1", device sensors, triggers) as non-EEG, so that
    # montage-based steps (interpolation, topographic graphs) see only electrodes.
    demoted = [i for i in eeg if positioned and not has_position(new[i]) and i not in overrides]
    if demoted:
        for i in demoted:
            modalities[i] = "misc"
        warnings.append(
            f"{source}: EEG-typed channels {[new[i] for i in demoted]} have no 10-05 position; typed misc "
            "(pass channel_types={name: 'eeg'} to keep them as EEG)"
        )
    elif eeg and not positioned:
        warnings.append(f"{source}: no EEG channel has a 10-05 position; the EEG has no montage")
    return ChannelPlan(new, modalities, warnings)


def _resolve_overrides(names: list[str], channel_types: Mapping[str, str], source: str) -> dict[int, str]:
    """Channel index -> modality for the user's ``channel_types``."""
    index = {n: i for i, n in enumerate(names)}
    for i, n in enumerate(names):
        index.setdefault(normalise_name(n), i)
    out: dict[int, str] = {}
    missing = []
    for key, value in channel_types.items():
        modality = canonical_modality(value)
        if modality is None:
            raise ConfigError(
                f"channel_types[{key!r}] = {value!r} is not a channel type; allowed: {sorted(MODALITY_TYPES)} "
                f"(or {sorted(_ALIASES)})"
            )
        if key in index:
            out[index[key]] = modality
        elif normalise_name(key) in index:
            out[index[normalise_name(key)]] = modality
        else:
            missing.append(key)
    if missing:
        raise DataError(f"{source}: channel_types names channels {missing} that the recording lacks; it has {names}")
    return out


def si_factor(unit: str | None) -> float | None:
    """Factor from ``unit`` to SI (V, S), e.g. ``"uV"`` -> 1e-6; None for unknown or unit-less."""
    if unit is None:
        return None
    text = str(unit).strip()
    return _UNIT_FACTORS.get(text, _UNIT_FACTORS.get(text.lower()))


def set_standard_montage(raw: mne.io.BaseRaw) -> None:
    """Set the template 10-05 montage on the EEG channels that have a position (in place)."""
    if any(has_position(name) for name in raw.ch_names):
        raw.set_montage(standard_montage(), on_missing="ignore", verbose="error")


@dataclass
class TimedSignal:
    """Channels of one modality sampled together, as a reader found them.

    Attributes
    ----------
    source
        Where they came from, for messages (``"rec.xdf stream 'BioSemi'"``).
    modality
        Key of :data:`MODALITY_TYPES`.
    ch_names
        Channel names, ``(n_channels,)``.
    data
        Samples in SI units (V, S; other modalities as stored), ``(n_channels, n_times)``.
    sfreq
        Sampling rate, Hz.
    start
        Time of sample 0 on the recording's clock, s.
    gaps
        Stretches without data, filled with NaN: (onset after sample 0 in s, duration in s).
    """

    source: str
    modality: str
    ch_names: list[str]
    data: np.ndarray
    sfreq: float
    start: float
    gaps: list[tuple[float, float]] = field(default_factory=list)


def no_events() -> pd.DataFrame:
    """An empty event table (columns ``time``, ``description``)."""
    return pd.DataFrame({"time": pd.Series(dtype=float), "description": pd.Series(dtype=str)})


@dataclass
class Recording:
    """What a non-MNE reader found: signal blocks, point events and notes.

    Attributes
    ----------
    subject
        Subject id for the session.
    signals
        The signal blocks, each on the recording's clock.
    markers
        Events: ``time`` (onset, s, recording clock), ``description`` and
        optionally ``duration`` (s; 0 when absent) columns.
    info
        Provenance and notes; ``info["warnings"]`` lists what was dropped or assumed.
    unix_clock
        Whether the recording's clock is seconds since 1970-01-01 UTC (sets ``meas_date``).
    """

    subject: str
    signals: list[TimedSignal]
    markers: pd.DataFrame = field(default_factory=no_events)
    info: dict[str, Any] = field(default_factory=lambda: {"warnings": []})
    unix_clock: bool = False
