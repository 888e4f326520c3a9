"""The trial and label sections of a run: where trials come from and what they are labelled with.

Part of :mod:`biosig.config`; MNE's vocabulary (``event_id``, ``tmin``,
``tmax``, ``baseline``) as in :class:`mne.Epochs`. :mod:`biosig.trials`
builds the trial tables these sections describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from biosig.config.data import StrictSection


class ThresholdEvents(StrictSection):
    """Events at the threshold crossings of an analog channel (e.g. a photosensor).

    An event is the first sample where the signal crosses ``threshold`` (in the
    channel's stored units, after MNE's scaling to SI) in the direction of
    ``edge``; crossings closer than ``min_gap`` seconds to the previous event
    are ignored. Every crossing is named ``name``.
    """

    channel: str
    threshold: float
    edge: Literal["rising", "falling"] = "rising"
    min_gap: float = Field(1.0, ge=0, description="Seconds; crossings this close to the previous event are ignored.")
    name: str = Field("onset", description="The event name the crossings get (a key of trials.event_id, if given).")


class TableTrials(StrictSection):
    """A table (CSV, TSV or XLSX) of onset, duration and label per subject (``trials.from: table``).

    Onsets are seconds from the recording's start, or times of day (``HH:MM[:SS]``)
    when ``time_of_day`` is true, converted with the recording's start time
    (its ``meas_date``, UTC; a time without AM/PM is placed on the half-day
    nearest the recording's start). The end is ``end_column`` when set, else
    onset + ``duration_column`` (s).

    ``layout`` says how the table is laid out:

    * ``rows``: one row per trial, with the columns ``subject_column``,
      ``onset_column``, ``duration_column`` or ``end_column`` and ``label_column``;
    * ``subject_rows``: one row per subject under a two-row header (a task
      log): the first header row names each trial's label above its columns
      (a merged cell; an empty cell continues the label on its left) and
      ``subject_column``; the second says which column holds the onset (cells
      equal to ``onset_column``, e.g. ``Start``) and which the end
      (``end_column``, e.g. ``End``) or the duration (``duration_column``).
      ``label_column`` is not used.

    ``keep_labels`` keeps only the trials with these labels (before
    ``labels.map``); the others are left out with a note in the session's warnings.
    """

    path: Path = Field(description="The table; relative paths are relative to the working directory.")
    sheet: str | int | None = Field(None, description="XLSX sheet (name or 0-based index); default the first.")
    layout: Literal["rows", "subject_rows"] = "rows"
    subject_column: str = "subject"
    onset_column: str = "onset"
    duration_column: str | None = Field("duration", description="Seconds; null: end_column gives the end.")
    end_column: str | None = None
    label_column: str = "label"
    time_of_day: bool = False
    keep_labels: tuple[str, ...] | None = Field(None, description="Trial labels to keep; default all.")

    @model_validator(mode="after")
    def _has_end(self) -> TableTrials:
        if self.duration_column is None and self.end_column is None:
            raise ValueError("trials.table needs duration_column or end_column")
        return self


class TrialsConfig(StrictSection):
    """Where a recording's trials come from (``trials`` section).

    * ``from: source`` (default): the source's own trial table (the synthetic
      cohort, the dataset kinds, biosig's own session files).
    * ``from: events``: one trial per event matching ``event_id`` (names to
      annotation descriptions, stim codes or, with ``regex: true``, regular
      expressions matched against the whole description, e.g. XDF markers),
      the stimulus window ``[tmin, tmax]`` s from the event and the baseline
      window ``baseline`` = ``[a, b]`` s from the event (null: none). Events
      come from the recordings' annotations (MNE files, XDF marker streams,
      E4 tags, BIDS events.tsv), from ``stim_channel`` (MNE's find_events) or
      from ``threshold`` crossings of an analog channel. The trial's
      ``condition`` is the event_id key.
    * ``from: recording``: each file is one trial (or, with ``block_seconds``,
      consecutive blocks of that length, each a trial), labelled by
      ``labels.from_field``.
    * ``from: table``: onsets, durations and labels from ``table``.
    """

    from_: Literal["source", "events", "recording", "table"] = Field("source", alias="from")
    event_id: dict[str, int | str] | None = None
    regex: bool = False
    tmin: float = 0.0
    tmax: float | None = Field(None, description="Seconds from the event; required with from: events.")
    baseline: tuple[float, float] | None = None
    stim_channel: str | None = None
    threshold: ThresholdEvents | None = None
    block_seconds: float | None = Field(None, gt=0)
    table: TableTrials | None = None

    model_config = {**StrictSection.model_config, "populate_by_name": True}

    @model_validator(mode="after")
    def _complete(self) -> TrialsConfig:
        if self.from_ == "events":
            if self.tmax is None:
                raise ValueError("trials.tmax is required with from: events (seconds from the event)")
            if self.tmax <= self.tmin:
                raise ValueError(f"trials.tmax ({self.tmax} s) must be after tmin ({self.tmin} s)")
            if self.threshold is None and not self.event_id:
                raise ValueError("from: events needs trials.event_id (or trials.threshold)")
        if self.baseline is not None and self.baseline[1] <= self.baseline[0]:
            raise ValueError(f"trials.baseline must be [a, b] with a < b, got {list(self.baseline)}")
        if self.from_ == "table" and self.table is None:
            raise ValueError("from: table needs trials.table (path and columns)")
        if self.block_seconds is not None and self.from_ != "recording":
            raise ValueError("trials.block_seconds applies to from: recording only")
        if self.regex and self.event_id and not all(isinstance(v, str) for v in self.event_id.values()):
            raise ValueError("with trials.regex every event_id value must be a regular expression (a string)")
        return self


class RatingsTable(StrictSection):
    """Ratings (or any numeric labels) per subject and trial, from a CSV/TSV/XLSX table.

    Without ``match`` the trial column numbers a subject's trials 1..n over all
    its files in path order (the numbering of the joined session). With
    ``match`` (path field -> table column, e.g. ``{session: Session}``) each
    file takes the rows whose cells equal its captured fields, and the trial
    column numbers the trials within that file from 1.
    """

    path: Path
    sheet: str | int | None = None
    subject_column: str = "subject"
    trial_column: str = "trial"
    columns: tuple[str, ...] = Field(min_length=1, description="Numeric columns to attach, e.g. [valence, arousal].")
    match: dict[str, str] = Field(
        default_factory=dict,
        description="Path field -> table column; rows then match per file and trials are numbered per file.",
    )


class LabelsConfig(StrictSection):
    """What trials are labelled with (``labels`` section).

    * ``condition``: the event_id key (``from: events``), the table's label
      (``from: table``) or, with ``from_field``, a field captured from the file
      path (``source.pattern``), mapped through ``map`` (unmapped values are
      an error naming them).
    * ``ratings``: numeric columns from a table keyed by subject and trial.
    """

    from_field: str | None = None
    map: dict[str, str] | None = None
    ratings: RatingsTable | None = None
