"""The streams of a live session: checks against the model and the opening of their readers.

:mod:`streaming.api`'s :class:`~streaming.api.LiveSession` opens one
:class:`~streaming.inlet.StreamReader` per stream (EEG, ECG/EDA, others) with
the same options; the checks here run before any stream is resolved or as
each one is.
"""

from __future__ import annotations

from dataclasses import dataclass

from biosig.errors import ConfigError, DataError
from streaming.inlet import StreamQuery, StreamReader
from streaming.model_io import LiveModel, peripheral_nodes


@dataclass(frozen=True)
class ReaderOptions:
    """How every reader of a session reads its stream (as :class:`~streaming.inlet.StreamReader`'s).

    Attributes
    ----------
    buffer_seconds
        Ring-buffer length of each stream, s.
    resolve_timeout
        Seconds to find each stream at start.
    lost_after
        Seconds without samples after which a stream counts as lost.
    dejitter
        liblsl's dejitter on the inlets.
    """

    buffer_seconds: float
    resolve_timeout: float
    lost_after: float
    dejitter: bool

    def open(self, query: StreamQuery) -> StreamReader:
        """A reader of the stream ``query`` finds (resolved now, not started)."""
        return StreamReader(
            query, buffer_seconds=self.buffer_seconds, resolve_timeout=self.resolve_timeout,
            lost_after=self.lost_after, dejitter=self.dejitter,
        )  # fmt: skip


def check_peripheral_streams(model: LiveModel, given: dict[str, StreamQuery]) -> None:
    """Every ECG/EDA node of the model's networks must have its stream in ``given`` (by kind).

    Raises
    ------
    ConfigError
        A model has nodes whose streams were not given (the message says how to give them).
    """
    for entry in model.models:
        unfed = [kind for kind, _ in peripheral_nodes(entry.model) if kind not in given]
        if unfed:
            raise ConfigError(
                f"{entry.source}: {type(entry.model).__name__} has {'/'.join(k.upper() for k in unfed)} nodes; "
                f"give the {'/'.join(k.upper() for k in unfed)} stream ({' '.join(f'--{k} QUERY' for k in unfed)}, "
                f"or {', '.join(f'{k}=QUERY' for k in unfed)} in Python)"
            )


def peripheral_channel(kind: str, reader: StreamReader) -> int:
    """The channel of an ECG/EDA stream that gives its features: the first of its type, else the first.

    The types are ``ecg``, or ``eda``/``gsr`` for EDA.

    Raises
    ------
    DataError
        The stream has an irregular rate (its features need one).
    """
    if reader.rate <= 0:
        raise DataError(f"{kind} stream {reader.name_!r} has an irregular rate; its features need one")
    types = reader.layout.types
    wanted = ("eda", "gsr") if kind == "eda" else (kind,)
    return next((i for i, t in enumerate(types) if t in wanted), 0)
