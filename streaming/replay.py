"""``biosig replay``: play a recorded session as LSL streams, in real time or faster.

Call :func:`streaming.lslconfig.use_lsl_config` before importing this module.

The source is anything :func:`biosig.io.read_session` reads (EDF, BDF, XDF,
BrainVision, FIF, the package's own session folders, E4 exports, tables) or a
subject of the synthetic cohort: ``synthetic:S01``, optionally with
:class:`~biosig.datasets.synthetic.SyntheticConfig` overrides as a query,
``synthetic:S02?n_trials=2&stimulus_seconds=10``.

Each modality (EEG, ECG, EDA, then the session's extras) becomes one outlet
at its original rate: name ``<prefix>-<modality>`` (``biosig-replay-eeg``),
type ``EEG``/``ECG``/``EDA``/..., source id ``<prefix>:<subject>:<modality>``
(so an inlet recovers it after a restart), float32 samples in the units the
XDF conventions use (microvolts for ExG, microsiemens for EDA), and the
channels (``label``, ``type``, ``unit``) in the XML ``desc``. The session's
annotations (trial onsets, events) go out on ``<prefix>-markers`` at their
onsets.

Sample *i* is stamped ``t0 + i / sfreq`` where ``t0`` is the LSL time at
which the replay starts: the stamps keep the recording's timing whatever
``speed`` is (at speed 4 a minute of recording is pushed in 15 s, stamped
over a minute), so a recording of the replay reads back at the original
rate. Samples go out in chunks every ``chunk_seconds`` of recording time;
``loop`` starts again from the first sample, the stamps running on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import mne
import numpy as np
import pylsl
from pydantic import ValidationError

from biosig.errors import ConfigError
from biosig.session import Session

#: Unit each modality is sent in, and its factor from SI (XDF meta-data conventions).
_STREAM_UNITS: dict[str, tuple[str, float]] = {
    "eeg": ("microvolts", 1e6), "ecg": ("microvolts", 1e6), "eog": ("microvolts", 1e6),
    "emg": ("microvolts", 1e6), "eda": ("microsiemens", 1e6),
}  # fmt: skip


def load_source(source: str | Path) -> Session:
    """The session to replay: ``synthetic:S01[?key=value&...]`` or a path for :func:`biosig.io.read_session`.

    Raises
    ------
    ConfigError
        A malformed synthetic subject or an unknown or invalid setting (named).
    DataError
        The file cannot be read (the reader's message).
    """
    text = str(source)
    if text.startswith("synthetic:"):
        from biosig.datasets.synthetic import SyntheticConfig, make_session

        subject, _, query = text[len("synthetic:") :].partition("?")
        if not (subject.upper().startswith("S") and subject[1:].isdigit() and int(subject[1:]) >= 1):
            raise ConfigError(f"{text}: name a synthetic subject as S01, S02, ...")
        index = int(subject[1:]) - 1
        overrides = dict(parse_qsl(query, strict_parsing=bool(query)))
        try:
            config = SyntheticConfig(**{"n_subjects": max(index + 1, SyntheticConfig().n_subjects), **overrides})
        except (ValidationError, TypeError) as exc:
            raise ConfigError(f"{text}: invalid synthetic settings: {exc}") from None
        return make_session(index, config)
    from biosig.io.read import read_session

    return read_session(Path(text))


@dataclass
class _Stream:
    modality: str
    outlet: pylsl.StreamOutlet
    data: np.ndarray  # (n_times, n_channels) in stream units, float32
    sfreq: float
    sent: int = 0


class Replayer:
    """Outlets for a session's modalities and markers, and the clock that feeds them (module docstring).

    Parameters
    ----------
    session
        What to play.
    speed
        Recording seconds per wall-clock second (> 0).
    loop
        Start again after the end.
    chunk_seconds
        Recording seconds per pushed chunk.
    prefix
        Stream-name prefix.
    """

    def __init__(
        self,
        session: Session,
        *,
        speed: float = 1.0,
        loop: bool = False,
        chunk_seconds: float = 1.0 / 32.0,
        prefix: str = "biosig-replay",
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ConfigError(f"--speed must be a positive number; got {speed}")
        if not chunk_seconds > 0:
            raise ConfigError(f"chunk_seconds must be positive; got {chunk_seconds}")
        self.session = session
        self.speed = float(speed)
        self.loop = loop
        self.chunk_seconds = float(chunk_seconds)
        self.prefix = prefix
        self.streams = [
            self._outlet(modality, raw) for modality, raw in session.modalities().items()
        ]
        self.duration = max(len(s.data) / s.sfreq for s in self.streams)
        self.events = self._events()
        self.marker_outlet = None
        if len(self.events[0]):
            info = pylsl.StreamInfo(f"{prefix}-markers", "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string,
                                    f"{prefix}:{session.subject}:markers")  # fmt: skip
            self.marker_outlet = pylsl.StreamOutlet(info)
        self.pushed_seconds = 0.0
        self._stop = threading.Event()

    def _outlet(self, modality: str, raw: mne.io.BaseRaw) -> _Stream:
        unit, factor = _STREAM_UNITS.get(modality, (None, 1.0))
        kinds = raw.get_channel_types()
        data = (raw.get_data().T * factor).astype(np.float32)
        stream_type = modality.upper()
        info = pylsl.StreamInfo(
            f"{self.prefix}-{modality}", stream_type, len(raw.ch_names), float(raw.info["sfreq"]), pylsl.cf_float32,
            f"{self.prefix}:{self.session.subject}:{modality}",
        )  # fmt: skip
        channels = info.desc().append_child("channels")
        for name, kind in zip(raw.ch_names, kinds, strict=True):
            ch = channels.append_child("channel")
            ch.append_child_value("label", name)
            ch.append_child_value("type", modality if modality in _STREAM_UNITS else kind)
            if unit:
                ch.append_child_value("unit", unit)
        info.desc().append_child_value("subject", self.session.subject)
        return _Stream(modality, pylsl.StreamOutlet(info), data, float(raw.info["sfreq"]))

    def _events(self) -> tuple[np.ndarray, list[str]]:
        """Annotation onsets (s from the first sample) and descriptions of the first recording that has any."""
        for raw in self.session.modalities().values():
            annotations = raw.annotations
            if len(annotations):
                onsets = np.asarray(annotations.onset) - raw.first_time
                order = np.argsort(onsets, kind="stable")
                return onsets[order], [str(annotations.description[i]) for i in order]
        return np.empty(0), []

    def wait_for_consumers(self, timeout: float, modalities: tuple[str, ...] = ("eeg",)) -> bool:
        """Block until the outlets of ``modalities`` have a consumer or ``timeout`` s pass (e.g. before :meth:`run`)."""
        return all(s.outlet.wait_for_consumers(timeout) for s in self.streams if s.modality in modalities)

    def stop(self) -> None:
        """Ask :meth:`run` to return (after its current chunk)."""
        self._stop.set()

    def run(self, duration: float | None = None, on_chunk: Callable[[float], None] | None = None) -> float:
        """Push the session until its end (or forever with ``loop``), ``duration`` wall seconds, or :meth:`stop`.

        ``on_chunk(recording_seconds)`` is called after each tick (progress).
        Returns the recording seconds pushed.
        """
        t_start = pylsl.local_clock()
        onsets, descriptions = self.events
        next_event = 0
        tick = self.chunk_seconds / self.speed
        while not self._stop.is_set():
            wall = pylsl.local_clock() - t_start
            if duration is not None and wall >= duration:
                break
            recording_time = wall * self.speed
            finished = True
            for stream in self.streams:
                due = int(math.floor(recording_time * stream.sfreq)) + 1
                if not self.loop:
                    due = min(due, len(stream.data))
                if due > stream.sent:
                    index = np.arange(stream.sent, due)
                    chunk = stream.data[index % len(stream.data)]
                    stream.outlet.push_chunk(chunk, (t_start + index / stream.sfreq).tolist())
                    stream.sent = due
                finished &= stream.sent >= len(stream.data)
            if self.marker_outlet is not None:
                while self.loop or next_event < len(onsets):
                    lap, k = divmod(next_event, len(onsets))
                    at = onsets[k] + lap * self.duration
                    if at > recording_time:
                        break
                    self.marker_outlet.push_sample([descriptions[k]], t_start + at)
                    next_event += 1
            self.pushed_seconds = recording_time
            if on_chunk is not None:
                on_chunk(recording_time)
            if finished and not self.loop:
                break
            self._stop.wait(tick - (pylsl.local_clock() - t_start - wall) if tick > 0 else 0)
        return self.pushed_seconds


def replay(
    source: str | Path,
    *,
    speed: float = 1.0,
    loop: bool = False,
    duration: float | None = None,
    prefix: str = "biosig-replay",
    on_ready: Callable[[Replayer], None] | None = None,
) -> float:
    """Replay ``source`` (see :func:`load_source`) until its end; returns the recording seconds pushed."""
    session = load_source(source)
    player = Replayer(session, speed=speed, loop=loop, prefix=prefix)
    if on_ready is not None:
        on_ready(player)
    return player.run(duration=duration)
