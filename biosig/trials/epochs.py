"""Event-locked trials (``trials.from: events``): one trial per event, MNE's tmin/tmax/baseline.

For an event at ``onset`` s: the stimulus window is ``[onset + tmin, onset +
tmax]`` and the baseline window ``[onset + a, onset + b]`` for ``baseline =
[a, b]``; without a baseline the trial's ``baseline_duration`` is 0 and its
``baseline_onset`` its stimulus onset. The ``condition`` is the ``event_id``
key the event matched (the threshold's event name, or the key whose value
is that name). Trials are numbered 1, 2, ... over all matched events in time
order; those whose windows leave the recording are dropped with a note in
``session.info["warnings"]``, keeping the others' numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from biosig.config.trials import TrialsConfig
from biosig.errors import DataError
from biosig.session import Session
from biosig.trials.build import describe, outside, recording_length, trial_table
from biosig.trials.events import annotation_events, stim_events, threshold_events


def find_events(session: Session, trials: TrialsConfig, path: Path) -> pd.DataFrame:
    """The events the trials lock to: ``onset`` (s, session clock) and ``name`` (the condition)."""
    if trials.threshold is not None:
        events = threshold_events(session, trials.threshold, path)
        if trials.event_id:
            names = {str(value): key for key, value in trials.event_id.items()}
            if trials.threshold.name not in names:
                raise DataError(
                    f"{path}: threshold events are named {trials.threshold.name!r} (trials.threshold.name) but "
                    f"no trials.event_id value is that name; event_id is {dict(trials.event_id)}"
                )
            events["name"] = names[trials.threshold.name]
        if events.empty:
            raise DataError(
                f"{path}: channel {trials.threshold.channel!r} never crosses {trials.threshold.threshold} "
                f"on a {trials.threshold.edge} edge (trials.threshold); no events"
            )
        return events
    assert trials.event_id is not None  # the config requires event_id without threshold
    if trials.stim_channel is not None:
        return stim_events(session, trials.stim_channel, trials.event_id, path)
    return annotation_events(session, trials.event_id, trials.regex, path)


def epoch_trials(session: Session, trials: TrialsConfig, path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The event-locked trial table of ``session`` and the notes on dropped events.

    Raises
    ------
    DataError
        No matching event (naming the file, the key and the descriptions
        present), or every event's window outside the recording.
    """
    assert trials.tmax is not None  # the config requires tmax with from: events
    events = find_events(session, trials, path)
    onset = events["onset"].to_numpy()
    stimulus_onset = onset + trials.tmin
    if trials.baseline is None:
        baseline_onset, baseline_duration = stimulus_onset, np.zeros(len(onset))
    else:
        a, b = trials.baseline
        baseline_onset, baseline_duration = onset + a, np.full(len(onset), b - a)
    table = trial_table(
        np.arange(1, len(onset) + 1),
        stimulus_onset,
        np.full(len(onset), trials.tmax - trials.tmin),
        baseline_onset,
        baseline_duration,
        events["name"].tolist(),
    )
    length = recording_length(session)
    gone = outside(table, length)
    notes = []
    if gone.all():
        raise DataError(
            f"{path}: all {len(table)} events' windows (tmin {trials.tmin} s, tmax {trials.tmax} s, baseline "
            f"{trials.baseline}) fall outside the recording (0 to {length:.2f} s)"
        )
    if gone.any():
        notes.append(
            f"{path}: {int(gone.sum())} events dropped, their windows fall outside the recording "
            f"(0 to {length:.2f} s): {describe(table[gone])}"
        )
    return table[~gone].reset_index(drop=True), notes
