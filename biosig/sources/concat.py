"""Several recordings of one subject (files, BIDS sessions and runs) as one Session on one clock.

:func:`concatenate_sessions` puts the recordings back to back in the order
given: recording *k* starts where recording *k - 1* ends, each modality is
joined with :func:`mne.concatenate_raws` (which marks every junction with a
``BAD boundary`` annotation, so no window straddles two recordings unseen),
every trial onset is shifted by the time before its recording and the trials
are renumbered 1..n in that order. Each recording is first cut to its
shortest modality, so that all modalities stay aligned (at different rates
their lengths differ by under a sample; a larger cut is noted in the
warnings).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mne
import pandas as pd

from biosig.errors import DataError
from biosig.session import Session

#: Keys of a recording's ``info`` that describe the whole session rather than one recording.
_SESSION_KEYS = ("warnings",)


def concatenate_sessions(subject: str, parts: Sequence[tuple[Path, Session]], source: str) -> Session:
    """One session from ``parts`` (path, session) of one subject, back to back in the given order.

    Parameters
    ----------
    subject
        The subject id of the result.
    parts
        Each recording's path (for messages and provenance) and session.
    source
        The source kind for ``info["source"]`` (``"files"``, ``"bids"``, ``"seed"``).

    Returns
    -------
    Session
        Every modality joined; ``info`` holds ``source``, ``file`` (the first
        path), ``warnings`` (all recordings'), ``start_offsets_s`` (the first
        recording's) and ``recordings``: per recording its ``file``,
        ``onset_s`` and ``duration_s`` on the session clock and its own
        ``info`` without the warnings.

    Raises
    ------
    DataError
        The recordings differ in modalities, or a modality in its channels
        or rate (naming the files).
    """
    paths = [str(path) for path, _ in parts]
    keys = list(parts[0][1].modalities())
    for path, session in parts[1:]:
        if list(session.modalities()) != keys:
            raise DataError(
                f"subject {subject}: {paths[0]} has the recordings {keys} but {path} has "
                f"{list(session.modalities())}; the files of one subject must hold the same modalities"
            )
    for key in keys:
        _check_compatible(subject, key, [(p, s.modalities()[key]) for p, s in parts])
    warnings: list[str] = []
    onset = 0.0
    trials, recordings = [], []
    joined: dict[str, list[mne.io.BaseRaw]] = {key: [] for key in keys}
    for path, session in parts:
        duration = min(raw.n_times / raw.info["sfreq"] for raw in session.modalities().values())
        warnings += list(session.info.get("warnings", []))
        for key, raw in session.modalities().items():
            joined[key].append(_cut(raw, duration, path, key, warnings))
        table = session.trials.copy()
        table[["baseline_onset", "stimulus_onset"]] += onset
        trials.append(table)
        info = {k: v for k, v in session.info.items() if k not in _SESSION_KEYS}
        recordings.append({"file": str(path), "onset_s": onset, "duration_s": duration, "info": info})
        onset += duration
    raws = {key: mne.concatenate_raws(raws, verbose="error") for key, raws in joined.items()}
    table = pd.concat(trials, ignore_index=True)
    table["trial"] = range(1, len(table) + 1)
    first = parts[0][1]
    info: dict[str, Any] = {
        "source": source,
        "file": paths[0],
        "warnings": warnings,
        "start_offsets_s": first.info.get("start_offsets_s", {}),
        "recordings": recordings,
    }
    extra = {key: raws[key] for key in first.extra}
    return Session(
        subject=subject, eeg=raws.get("eeg"), ecg=raws.get("ecg"), eda=raws.get("eda"),
        trials=table, info=info, extra=extra,
    )  # fmt: skip


def _check_compatible(subject: str, key: str, raws: list[tuple[str, mne.io.BaseRaw]]) -> None:
    """DataError naming both files when a modality's channels or rate differ from the first file's."""
    path0, raw0 = raws[0]
    for path, raw in raws[1:]:
        if raw.ch_names != raw0.ch_names:
            raise DataError(
                f"subject {subject}: the {key} channels of {path} {raw.ch_names} differ from those of "
                f"{path0} {raw0.ch_names}; the files of one subject must have the same channels"
            )
        if raw.info["sfreq"] != raw0.info["sfreq"]:
            raise DataError(
                f"subject {subject}: the {key} of {path} is at {raw.info['sfreq']:g} Hz but that of {path0} at "
                f"{raw0.info['sfreq']:g} Hz; the files of one subject must have the same rates"
            )


def _cut(raw: mne.io.BaseRaw, duration: float, path: Path, key: str, warnings: list[str]) -> mne.io.BaseRaw:
    """``raw`` (a copy) cut to ``duration`` s, noting a cut of more than one sample."""
    sfreq = raw.info["sfreq"]
    keep = round(duration * sfreq)
    raw = raw.copy()
    if keep >= raw.n_times:
        return raw
    if raw.n_times - keep > 1:
        warnings.append(
            f"{path}: the {key} recording ({raw.n_times / sfreq:.3f} s) was cut to the file's shortest "
            f"modality ({duration:.3f} s) to keep the modalities aligned across the subject's files"
        )
    return raw.crop(tmax=(keep - 1) / sfreq, include_tmax=True)
