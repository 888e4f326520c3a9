"""The stimulus-identity baseline: predict a rating from which stimulus was shown.

Where every subject watched the same clips (DREAMER, the synthetic cohort),
the clip alone carries label information: subjects tend to rate a clip alike.
:func:`stimulus_identity_predictions` predicts each test row's rating as the
mode (classes) or mean (regression) of the OTHER subjects' ratings of the same
stimulus, never using the test subject's own ratings, so every model can be
compared with it as well as with chance. Where no stimulus id is shared across
subjects (condition targets, most real sources) it is not applicable and says
why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class StimulusIdentity:
    """Predictions of the stimulus-identity baseline, or why it does not apply.

    ``predictions`` is ``(n_rows,)`` float aligned with the inputs: the
    prediction on test rows, NaN on the other rows and on test rows whose
    stimulus no other subject rated (counted in ``n_missing``). It is ``None``
    when the baseline is not applicable, and ``reason`` says why.
    """

    predictions: np.ndarray | None
    reason: str | None = None
    n_missing: int = 0

    @property
    def applicable(self) -> bool:
        """Whether there are predictions."""
        return self.predictions is not None


def stimulus_identity_predictions(
    ratings: np.ndarray,
    subjects: np.ndarray,
    stimuli: np.ndarray | None,
    test_mask: np.ndarray,
    kind: Literal["mode", "mean"] = "mode",
    reference_mask: np.ndarray | None = None,
) -> StimulusIdentity:
    """Each test row's rating predicted from the other subjects' ratings of its stimulus.

    Parameters
    ----------
    ratings, subjects, stimuli
        ``(n_rows,)`` per row (window or trial): the rating or class label, the
        subject id and the stimulus id (e.g. the clip, shared across subjects;
        ``None`` when the source has none). Each subject's rating of a stimulus
        is counted once however many rows (windows) it has: the mode of its
        rows' ratings. NaN ratings are ignored.
    test_mask
        ``(n_rows,)`` bool: the rows to predict.
    kind
        ``"mode"``: the most frequent of the other subjects' ratings (ties:
        the smallest), for classes and rating levels; ``"mean"``: their mean,
        for regression.
    reference_mask
        ``(n_rows,)`` bool: rows whose ratings the baseline may use (e.g. the
        fold's training rows); default every row. The test subject's own rows
        are never used, whatever this mask says.
    """
    if stimuli is None:
        return StimulusIdentity(None, "the source has no stimulus id")
    ratings = np.asarray(ratings, dtype=float)
    subjects, stimuli = np.asarray(subjects), np.asarray(stimuli)
    test_mask = np.asarray(test_mask, dtype=bool)
    reference = np.ones(len(ratings), bool) if reference_mask is None else np.asarray(reference_mask, dtype=bool)
    if not len(ratings) == len(subjects) == len(stimuli) == len(test_mask) == len(reference):
        raise ValueError("ratings, subjects, stimuli and the masks must have one entry per row")
    if kind not in ("mode", "mean"):
        raise ValueError(f"kind must be 'mode' or 'mean', got {kind!r}")
    per_subject = _subject_ratings(ratings, subjects, stimuli, reference & ~np.isnan(ratings))
    raters: dict = {}
    for subject, stimulus in per_subject:
        raters.setdefault(stimulus, []).append(subject)
    if not any(len(set(s)) > 1 for s in raters.values()):
        return StimulusIdentity(None, "no stimulus id is shared by two or more subjects")
    predictions = np.full(len(ratings), np.nan)
    for subject, stimulus in {(s, k) for s, k in zip(subjects[test_mask], stimuli[test_mask])}:
        others = [per_subject[(o, stimulus)] for o in raters.get(stimulus, []) if o != subject]
        if others:
            rows = test_mask & (subjects == subject) & (stimuli == stimulus)
            predictions[rows] = _mode(np.array(others)) if kind == "mode" else float(np.mean(others))
    n_missing = int(np.isnan(predictions[test_mask]).sum())
    if test_mask.any() and n_missing == int(test_mask.sum()):
        return StimulusIdentity(None, "no test row's stimulus was rated by another subject", n_missing)
    return StimulusIdentity(predictions, None, n_missing)


def _subject_ratings(ratings: np.ndarray, subjects: np.ndarray, stimuli: np.ndarray, usable: np.ndarray) -> dict:
    """``{(subject, stimulus): rating}``: the mode of each subject's usable rows of each stimulus."""
    out: dict = {}
    for subject, stimulus in {(s, k) for s, k in zip(subjects[usable], stimuli[usable])}:
        rows = usable & (subjects == subject) & (stimuli == stimulus)
        out[(subject, stimulus)] = _mode(ratings[rows])
    return dict(sorted(out.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))))


def _mode(values: np.ndarray) -> float:
    """Most frequent value (ties: the smallest)."""
    levels, counts = np.unique(values, return_counts=True)
    return float(levels[np.argmax(counts)])
