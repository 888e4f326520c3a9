"""Trial tables from windows on the session clock, kept inside the recording.

Shared by every way of making trials (:mod:`biosig.trials.epochs`,
:mod:`biosig.trials.recording`, :mod:`biosig.trials.table`): the recording's
length, the table in the :data:`~biosig.session.TRIAL_COLUMNS` layout with a
``condition`` column, and the trials whose windows leave the recording.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from biosig.session import CONDITION, TARGETS, Session


def recording_length(session: Session) -> float:
    """Seconds every recording of ``session`` covers from t = 0 (the shortest one's length)."""
    return min(raw.n_times / raw.info["sfreq"] for raw in session.modalities().values())


def trial_table(
    trial: Sequence[int],
    stimulus_onset: np.ndarray,
    stimulus_duration: np.ndarray,
    baseline_onset: np.ndarray,
    baseline_duration: np.ndarray,
    condition: Sequence[str] | None,
) -> pd.DataFrame:
    """A trial table: the timing (s, session clock), NaN ratings and, when given, ``condition``."""
    table = pd.DataFrame(
        {
            "trial": np.asarray(trial, dtype=int),
            "baseline_onset": np.asarray(baseline_onset, dtype=float),
            "baseline_duration": np.asarray(baseline_duration, dtype=float),
            "stimulus_onset": np.asarray(stimulus_onset, dtype=float),
            "stimulus_duration": np.asarray(stimulus_duration, dtype=float),
            **{target: np.nan for target in TARGETS},
        }
    )
    if condition is not None:
        table[CONDITION] = [str(c) for c in condition]
    return table


def outside(table: pd.DataFrame, length: float) -> np.ndarray:
    """Boolean mask of the trials whose baseline or stimulus window is not within ``[0, length]`` s."""
    starts = np.minimum(table["baseline_onset"], table["stimulus_onset"]).to_numpy()
    ends = np.maximum(
        table["baseline_onset"] + table["baseline_duration"], table["stimulus_onset"] + table["stimulus_duration"]
    ).to_numpy()
    return (starts < 0) | (ends > length + 1e-9)


def describe(table: pd.DataFrame) -> str:
    """``trial 3 (condition a) at 12.50 s``, one per row, for messages."""
    label = table[CONDITION] if CONDITION in table else pd.Series([""] * len(table), index=table.index)
    return ", ".join(
        f"trial {t} ({c}) at {o:.2f} s" if c else f"trial {t} at {o:.2f} s"
        for t, c, o in zip(table["trial"], label, table["stimulus_onset"])
    )
