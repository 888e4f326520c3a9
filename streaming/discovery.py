"""LSL stream discovery: name a stream, find it, read its channel layout.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module
(it imports :mod:`pylsl`).

* :class:`StreamQuery` names a stream by ``name``, ``type`` and/or
  ``source_id`` (``"type=EEG"``, ``"name=Emotiv,type=EEG"``); it may also give
  the channel names and unit to use when the stream's XML description has
  none.
* :func:`resolve` finds exactly one stream within a timeout, or raises a
  :class:`~biosig.errors.DataError` listing the streams that are there.
* :class:`ChannelLayout` is a stream's channel names (normalised to the
  10-05 spelling), types and factors to SI units, from the ``desc/channels``
  of its XML when present, else from the query; ExG streams without units
  are taken as microvolts and EDA as microsiemens (the XDF conventions, as
  :mod:`biosig.io.xdf` reads them).

:mod:`streaming.inlet` opens and reads the streams found here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pylsl

from biosig.errors import ConfigError, DataError
from biosig.io.channels import normalise_name, si_factor

_DEFAULT_UNITS = {
    "eeg": "microvolts", "ecg": "microvolts", "eog": "microvolts", "emg": "microvolts", "exg": "microvolts",
    "eda": "microsiemens", "gsr": "microsiemens",
}  # fmt: skip
_QUERY_KEYS = ("name", "type", "source_id")


@dataclass(frozen=True)
class StreamQuery:
    """Which stream to use and how to read it when its description is incomplete.

    Attributes
    ----------
    name, type, source_id
        LSL stream properties to match (at least one).
    channels
        Channel names to use when the stream's XML has none.
    unit
        Unit of every channel when the stream's XML gives none (e.g. ``"uV"``).
    """

    name: str | None = None
    type: str | None = None
    source_id: str | None = None
    channels: tuple[str, ...] | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if not any(getattr(self, key) for key in _QUERY_KEYS):
            raise ConfigError("a stream query needs a name, a type or a source_id")
        for key in _QUERY_KEYS:
            value = getattr(self, key)
            if value is not None and "'" in value:
                raise ConfigError(f"stream {key} {value!r} must not contain a single quote")

    @classmethod
    def parse(cls, text: str) -> StreamQuery:
        """``"type=EEG"``, ``"name=Emotiv,type=EEG"``, ``"source_id=abc"``; a bare word is a type."""
        text = text.strip()
        if "=" not in text:
            return cls(type=text)
        fields: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in _QUERY_KEYS:
                raise ConfigError(f"stream query {text!r}: use key=value pairs with keys {list(_QUERY_KEYS)}")
            fields[key] = value.strip()
        return cls(**fields)

    def predicate(self) -> str:
        """The XPath predicate liblsl resolves, e.g. ``name='X' and type='EEG'``."""
        return " and ".join(f"{key}='{getattr(self, key)}'" for key in _QUERY_KEYS if getattr(self, key))

    def describe(self) -> str:
        """Short text for messages."""
        return ", ".join(f"{key}={getattr(self, key)}" for key in _QUERY_KEYS if getattr(self, key))


def describe_info(info: pylsl.StreamInfo) -> str:
    """``name (type, n ch @ rate Hz, source_id ...)`` of a resolved stream."""
    rate = info.nominal_srate()
    return (
        f"{info.name()!r} (type {info.type()!r}, {info.channel_count()} ch @ "
        f"{f'{rate:g} Hz' if rate > 0 else 'irregular rate'}, source_id {info.source_id()!r})"
    )


def resolve(query: StreamQuery, timeout: float = 2.0) -> pylsl.StreamInfo:
    """The one stream matching ``query``, waiting up to ``timeout`` s.

    Raises
    ------
    DataError
        No stream matches (the message lists the streams found on this
        machine), or several answer the same query (it lists them; add a
        ``name`` or ``source_id``). liblsl returns as soon as one stream
        answers, so a second one answering later goes unnoticed.
    """
    found = pylsl.resolve_bypred(query.predicate(), minimum=1, timeout=timeout)
    if len(found) == 1:
        return found[0]
    if found:
        listing = "; ".join(describe_info(info) for info in found)
        raise DataError(f"{len(found)} LSL streams match {query.describe()}: {listing}; add name= or source_id=")
    present = pylsl.resolve_streams(wait_time=1.0)  # pylsl: shorter waits may miss streams
    listing = "; ".join(describe_info(info) for info in present) or "none"
    raise DataError(f"no LSL stream matches {query.describe()} within {timeout:g} s; streams found: {listing}")


@dataclass(frozen=True)
class ChannelLayout:
    """A stream's channels.

    Attributes
    ----------
    names
        Channel names in stream order, normalised (``EEG Fp1-REF`` -> ``Fp1``).
    types
        Declared channel types (lower case), or the stream type.
    factors
        Factor from the stream's unit to SI (V, S) per channel, ``(n_channels,)``.
    from_description
        Whether the names came from the stream's XML (else from the query).
    """

    names: tuple[str, ...]
    types: tuple[str, ...]
    factors: np.ndarray
    from_description: bool

    @classmethod
    def from_info(cls, info: pylsl.StreamInfo, query: StreamQuery) -> ChannelLayout:
        """The layout of a stream with its full description (an inlet's ``info()``).

        Raises
        ------
        DataError
            The stream describes a different number of channels than it has,
            or has no names and the query gives none (or the wrong number).
        """
        n = info.channel_count()
        where = f"LSL stream {info.name()!r}"
        labels = info.get_channel_labels()
        if labels is not None and len(labels) != n:
            raise DataError(f"{where} has {n} channels but its description lists {len(labels)}")
        from_description = labels is not None and all(labels)
        if from_description:
            names = [normalise_name(str(label)) for label in labels]
        elif query.channels is not None:
            if len(query.channels) != n:
                raise DataError(
                    f"{where} has {n} channels but {len(query.channels)} channel names were given: "
                    f"{list(query.channels)}"
                )
            names = [normalise_name(ch) for ch in query.channels]
        else:
            raise DataError(
                f"{where} has no channel names in its XML description; give them (channels=...) in the stream query"
            )
        if len(set(names)) != len(names):
            raise DataError(f"{where} names a channel twice: {names}")
        kind = info.type().strip().lower()
        types = info.get_channel_types() or [None] * n
        types = [str(t).strip().lower() if t else kind for t in types]
        units = info.get_channel_units() or [None] * n
        factors = []
        for name, ch_type, unit in zip(names, types, units, strict=True):
            unit = unit or query.unit or _DEFAULT_UNITS.get(ch_type)
            factor = si_factor(unit) if unit else 1.0
            if factor is None:
                raise DataError(f"{where}: channel {name} has unit {unit!r}, not a known unit (V, uV, S, uS...)")
            factors.append(factor)
        return cls(tuple(names), tuple(types), np.asarray(factors), from_description)

    def indices_of(self, channels: Sequence[str], where: str) -> np.ndarray:
        """Positions of ``channels`` in this layout; :class:`DataError` naming the missing ones."""
        index = {name.casefold(): i for i, name in enumerate(self.names)}
        missing = [ch for ch in channels if normalise_name(ch).casefold() not in index]
        if missing:
            raise DataError(
                f"{where}: the model needs channels {missing}, which the stream does not have; "
                f"it has {list(self.names)}"
            )
        return np.array([index[normalise_name(ch).casefold()] for ch in channels])
