"""DEAP (Koelstra et al. 2012): what the preprocessed and the original recordings share.

The dataset
-----------
32 subjects each watched 40 one-minute music-video excerpts and rated
valence, arousal, dominance and liking on continuous **1-9** scales.
Binarisation is left to the evaluation: the usual cut is the middle of the
scale, high = ``rating > 5`` (:data:`BINARY_THRESHOLD`, the project's
``rating > threshold`` convention); TorchEEG's ``Binary(5.0)`` uses
``rating >= 5``, so ratings of exactly 5 differ between the two. Ratings
stay on their native scale in the trial table (liking in
``info["liking"]``) and ``info["rating_scale"] = (1, 9)``.

This module holds the channel tables, the rating scale and the small helpers
used by :mod:`biosig.datasets.deap.preprocessed` (``sXX.dat``) and
:mod:`biosig.datasets.deap.bdf` (``sXX.bdf``).
"""

from __future__ import annotations

import re
from pathlib import Path

import mne
import numpy as np

from biosig.errors import DataError

#: The 32 EEG channels in the Geneva order of the preprocessed files (TorchEEG's list, 10-05 spelling).
EEG_CHANNELS: tuple[str, ...] = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip
#: Peripheral channels 33-40 of the preprocessed files (names UNVERIFIED) and their MNE types.
PERIPHERAL_TYPES: dict[str, str] = {
    "hEOG": "eog", "vEOG": "eog", "zEMG": "emg", "tEMG": "emg", "GSR": "gsr",
    "Respiration": "resp", "Plethysmograph": "bio", "Temperature": "temperature",
}  # fmt: skip
#: Session ``extra`` slot -> the peripheral channels it holds (GSR is the session's ``eda``).
PERIPHERAL_SLOTS: dict[str, tuple[str, ...]] = {
    "eog": ("hEOG", "vEOG"), "emg": ("zEMG", "tEMG"), "resp": ("Respiration",),
    "bvp": ("Plethysmograph",), "temp": ("Temperature",),
}  # fmt: skip
#: All 40 channels of a preprocessed file, in order.
CHANNELS: tuple[str, ...] = EEG_CHANNELS + tuple(PERIPHERAL_TYPES)
SFREQ = 128.0  # Hz, preprocessed files
BASELINE_SECONDS = 3.0
GSR_UNIT = "ohm"  # UNVERIFIED (see biosig.datasets.deap.preprocessed)
RATING_SCALE: tuple[int, int] = (1, 9)
BINARY_THRESHOLD = 5.0  # high = rating > 5
TARGETS: tuple[str, ...] = ("valence", "arousal", "dominance", "liking")
#: Session ``extra`` slot -> MNE channel type of its channels.
SLOT_TYPES: dict[str, str] = {
    "eog": "eog", "emg": "emg", "resp": "resp", "bvp": "bio", "temp": "temperature", "misc": "misc",
}  # fmt: skip


def check_scale(values: np.ndarray, path: Path, subject: str, where: str) -> None:
    """Refuse ratings (n_trials, 4) that are missing or outside :data:`RATING_SCALE`; a DataError names the trials."""
    low, high = RATING_SCALE
    bad = np.flatnonzero((~np.isfinite(values) | (values < low) | (values > high)).any(axis=1))
    if bad.size:
        raise DataError(
            f"{path}: subject {subject}: {where} has ratings missing or outside {low}-{high} "
            f"for trials {(bad + 1).tolist()}"
        )


def subject_id(path: Path) -> str:
    """``"S01"`` from ``s01.dat`` / ``s01.bdf``; a DataError for any other file name."""
    match = re.fullmatch(r"s(\d+)", path.stem)
    if not match:
        raise DataError(f"{path}: DEAP files are named sNN.dat / sNN.bdf (subject number NN)")
    return f"S{int(match.group(1)):02d}"


def raw_array(
    data: np.ndarray, names: tuple[str, ...], ch_types: str | list[str], sfreq: float, annotations: mne.Annotations
) -> mne.io.RawArray:
    """A Raw of ``data`` (channel x sample, at ``sfreq`` Hz) with these channel names and types, annotated."""
    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, ch_types), verbose="error")
    raw.set_annotations(annotations)
    return raw
