"""The multimodal session: one subject's EEG, ECG and EDA with trials and ratings.

Signals stay MNE objects (one :class:`mne.io.Raw` per modality, each at its own
sampling rate); this module only adds the small typed container that ties them
to the trial table. Conventions, fixed for the whole package:

* Every modality's first sample is at ``t = 0`` s of the session clock, so a
  time in seconds means the same instant in the EEG, ECG and EDA.
* Units are MNE's SI units: EEG and ECG in volts, EDA (MNE channel type
  ``gsr``) in siemens. Feature code converts to the field's display units
  (µV, bpm, µS) and says so.
* ``trials`` is a :class:`pandas.DataFrame`, one row per trial, with the
  columns in :data:`TRIAL_COLUMNS`: onsets and durations in seconds of the
  pre-trial baseline and of the stimulus, and the self-reported ratings
  (valence, arousal, dominance; 1-5 for DREAMER-like data).

Recordings read from other sources (:func:`biosig.io.read_session`) need not
fit the DREAMER-like shape, so a session may also have:

* no EEG (``eeg=None``; a wearable export), though at least one recording;
* an empty trial table (:func:`empty_trials`; an XDF or a wearable export
  without a trial structure), its events staying in the recordings' MNE
  annotations;
* other modalities in ``extra``, keyed by modality name (``"bvp"``,
  ``"resp"``, ``"temp"``, ``"acc"``, ``"hr"``, ``"eog"``, ``"misc"``...), each
  an :class:`mne.io.Raw` on the same session clock, also starting at 0 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mne
import numpy as np
import pandas as pd

from biosig.errors import DataError

#: Columns every trial table has, in this order.
TRIAL_COLUMNS: tuple[str, ...] = (
    "trial",
    "baseline_onset",
    "baseline_duration",
    "stimulus_onset",
    "stimulus_duration",
    "valence",
    "arousal",
    "dominance",
)

#: Timing columns of a trial table (never NaN).
TIMING_COLUMNS: tuple[str, ...] = TRIAL_COLUMNS[:5]

#: The optional column with each trial's categorical label (a condition target).
CONDITION = "condition"

#: Rating targets a trial table carries.
TARGETS: tuple[str, ...] = ("valence", "arousal", "dominance")


@dataclass
class Session:
    """One subject's synchronised multimodal recording.

    Parameters
    ----------
    subject
        Subject identifier, e.g. ``"S01"``.
    eeg
        EEG recording, channels of type ``eeg`` in volts, montage set; ``None``
        for a recording without EEG.
    trials
        Trial table with the columns :data:`TRIAL_COLUMNS` (seconds, ratings);
        may have no rows (:func:`empty_trials`).
    ecg
        Optional ECG recording (channel type ``ecg``, volts).
    eda
        Optional EDA recording (channel type ``gsr``, siemens).
    info
        Provenance and processing notes (source, seed, flagged problems...).
    extra
        Other modalities, keyed by modality name, each on the session clock.
    """

    subject: str
    eeg: mne.io.BaseRaw | None
    trials: pd.DataFrame
    ecg: mne.io.BaseRaw | None = None
    eda: mne.io.BaseRaw | None = None
    info: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, mne.io.BaseRaw] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.trials = validate_trials(self.trials, self.subject)
        clash = sorted(set(self.extra) & {"eeg", "ecg", "eda"})
        if clash:
            raise DataError(f"subject {self.subject}: extra modalities {clash} must use the eeg/ecg/eda fields")
        if not self.modalities():
            raise DataError(f"subject {self.subject}: the session has no recording")
        for name, raw in self.modalities().items():
            duration = raw.n_times / raw.info["sfreq"]
            end = (self.trials["stimulus_onset"] + self.trials["stimulus_duration"]).max()
            if end > duration + 1e-6:
                bad = self.trials.loc[
                    self.trials["stimulus_onset"] + self.trials["stimulus_duration"] > duration + 1e-6,
                    "trial",
                ].tolist()
                raise DataError(
                    f"subject {self.subject}: the {name} recording lasts {duration:.2f} s but "
                    f"trials {bad} end after it (last trial ends at {end:.2f} s); "
                    "the recording is too short for its trial table"
                )

    def modalities(self) -> dict[str, mne.io.BaseRaw]:
        """The recordings present, keyed ``"eeg"``, ``"ecg"``, ``"eda"``, then the ``extra`` keys."""
        core = {"eeg": self.eeg, "ecg": self.ecg, "eda": self.eda}
        return {**{name: raw for name, raw in core.items() if raw is not None}, **self.extra}

    @property
    def n_trials(self) -> int:
        """Number of trials in the trial table."""
        return len(self.trials)


def empty_trials() -> pd.DataFrame:
    """A trial table with the columns :data:`TRIAL_COLUMNS` and no rows."""
    return pd.DataFrame({col: pd.Series(dtype=int if col == "trial" else float) for col in TRIAL_COLUMNS})


def validate_trials(trials: pd.DataFrame, subject: str) -> pd.DataFrame:
    """Check a trial table and return a clean copy with numeric columns.

    The columns :data:`TRIAL_COLUMNS` come first; a rating is NaN where the
    source has none (a condition-only experiment). Extra columns are kept
    after them: ``condition`` (:data:`CONDITION`, the trial's categorical
    label, a non-empty string) and any other numeric label (e.g. a rating of
    another scale; NaN allowed). ``baseline_duration`` is 0 for a trial
    without a baseline window.

    Raises :class:`~biosig.errors.DataError` naming the subject and the
    missing column, the non-numeric or NaN field, or the overlapping trial.
    """
    missing = [c for c in TRIAL_COLUMNS if c not in trials.columns]
    if missing:
        raise DataError(f"subject {subject}: trial table lacks columns {missing}")
    extra = [c for c in trials.columns if c not in TRIAL_COLUMNS]
    out = trials.loc[:, [*TRIAL_COLUMNS, *extra]].reset_index(drop=True).copy()
    for col in [*TRIAL_COLUMNS, *extra]:
        if col == CONDITION:
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        invalid = values.isna() if col in TIMING_COLUMNS else values.isna() & out[col].notna()
        bad_rows = out.loc[invalid, "trial"].tolist()
        if bad_rows:
            raise DataError(
                f"subject {subject}: trial table column {col!r} is missing or not numeric "
                f"for trials {bad_rows}"
            )
        out[col] = values
    if CONDITION in out.columns:
        labels = out[CONDITION]
        empty = labels.isna() | (labels.astype(str).str.strip() == "")
        if empty.any():
            raise DataError(f"subject {subject}: trials {out.loc[empty, 'trial'].tolist()} have no condition label")
        out[CONDITION] = labels.astype(str)
    out["trial"] = out["trial"].astype(int)
    if out["trial"].duplicated().any():
        raise DataError(f"subject {subject}: duplicate trial numbers {out['trial'][out['trial'].duplicated()].tolist()}")
    if (out["stimulus_duration"] <= 0).any():
        raise DataError(
            f"subject {subject}: stimulus_duration must be positive; trials "
            f"{out.loc[out['stimulus_duration'] <= 0, 'trial'].tolist()}"
        )
    if (out["baseline_duration"] < 0).any():
        raise DataError(
            f"subject {subject}: baseline_duration must not be negative; trials "
            f"{out.loc[out['baseline_duration'] < 0, 'trial'].tolist()}"
        )
    if (out[["baseline_onset", "stimulus_onset"]] < 0).to_numpy().any():
        raise DataError(f"subject {subject}: trial onsets must be >= 0 s")
    return out


def trial_annotations(trials: pd.DataFrame) -> mne.Annotations:
    """MNE annotations ``baseline/T01`` and ``stimulus/T01`` for each trial."""
    onsets, durations, descriptions = [], [], []
    for row in trials.itertuples(index=False):
        onsets += [row.baseline_onset, row.stimulus_onset]
        durations += [row.baseline_duration, row.stimulus_duration]
        descriptions += [f"baseline/T{row.trial:02d}", f"stimulus/T{row.trial:02d}"]
    return mne.Annotations(np.asarray(onsets), np.asarray(durations), descriptions)
