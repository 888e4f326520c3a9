"""Trial tables for read recordings, from the ``trials`` and ``labels`` config sections.

:func:`apply_trials` is the one entry point: it takes a session read by
:func:`biosig.io.read_session` and returns it with the trial table that
``trials.from`` describes (times in s on the session clock, t = 0 at the
first sample; ratings NaN unless ``labels.ratings`` gives them):

* ``source``: the session's own table (:mod:`biosig.io.trials`), unchanged;
* ``events``: one trial per event (:mod:`biosig.trials.epochs`, events from
  :mod:`biosig.trials.events`), condition = the ``event_id`` key;
* ``recording``: the whole recording or consecutive blocks
  (:mod:`biosig.trials.recording`), condition from a path field;
* ``table``: a label table or task log (:mod:`biosig.trials.table`).

Then ``labels.ratings`` (:mod:`biosig.trials.ratings`) adds numeric columns
(or a ``condition``) per subject and trial. A source that joins several files
of a subject asks :func:`ratings_by_file` whether to merge them per file
(``labels.ratings.match``) or, with :func:`apply_ratings`, once over the joined
session's trials 1..n. Notes on what was dropped or cut go to
``session.info["warnings"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.session import Session
from biosig.trials.epochs import epoch_trials, find_events
from biosig.trials.ratings import merge_ratings
from biosig.trials.recording import field_condition, recording_trials
from biosig.trials.table import table_trials

__all__ = ["apply_ratings", "apply_trials", "field_condition", "find_events", "ratings_by_file"]


def apply_trials(
    session: Session,
    trials: TrialsConfig,
    labels: LabelsConfig,
    fields: Mapping[str, str],
    path: Path,
    *,
    ratings: bool = True,
) -> Session:
    """``session`` with the trial table ``trials`` and ``labels`` describe (see the module docstring).

    Parameters
    ----------
    session
        A read recording (:func:`biosig.io.read_session`); not modified.
    trials, labels
        The run's ``trials`` and ``labels`` sections.
    fields
        The ``{name}`` fields captured from the file's path by ``source.pattern``,
        e.g. ``{"subject": "00", "session": "1"}``.
    path
        The file (or folder) the session was read from, for messages.
    ratings
        Merge ``labels.ratings`` here; False when the source merges them
        after joining the subject's files (:func:`apply_ratings`).

    Returns
    -------
    Session
        A new session sharing the recordings, with the new trial table and
        ``info["warnings"]`` extended by the notes on dropped or cut trials.

    Raises
    ------
    ConfigError
        A key that does not fit the data: a missing path field, an unmapped
        label, a missing table or column.
    DataError
        Data that do not give trials: an ``event_id`` matching no event, a
        subject or trial missing from a table, an unparsable cell; each
        naming the file, subject, event or key.
    """
    path = Path(path)
    notes: list[str] = []
    if trials.from_ == "source":
        table = session.trials
    elif trials.from_ == "events":
        table, notes = epoch_trials(session, trials, path)
    elif trials.from_ == "recording":
        table, notes = recording_trials(session, trials, labels, fields, path)
    else:
        assert trials.table is not None  # the config requires table with from: table
        table, notes = table_trials(session, trials.table, labels, fields, path)
    merge = ratings and labels.ratings is not None
    if merge:
        table = merge_ratings(table, labels.ratings, session.subject, fields, path)
    if trials.from_ == "source" and not merge:
        return session
    info = {**session.info, "warnings": [*session.info.get("warnings", []), *notes], "trials_from": trials.from_}
    return dataclasses.replace(session, trials=table, info=info)


def ratings_by_file(labels: LabelsConfig) -> bool:
    """Whether ``labels.ratings`` is merged per file (it has ``match``) rather than over a subject's joined trials."""
    return labels.ratings is not None and bool(labels.ratings.match)


def apply_ratings(session: Session, labels: LabelsConfig, path: Path) -> Session:
    """``session`` with ``labels.ratings`` merged into its trials (numbered 1..n); unchanged without ratings.

    For a subject joined from several files
    (:func:`biosig.sources.concat.concatenate_sessions`), named in the table
    by ``session.subject``; ``path`` is for messages. Raises as
    :func:`biosig.trials.ratings.merge_ratings` does.
    """
    if labels.ratings is None:
        return session
    table = merge_ratings(session.trials, labels.ratings, session.subject, {}, path)
    return dataclasses.replace(session, trials=table)
