"""Electrode positions from MNE's built-in montages.

MNE 1.13 renamed the template 10-05 montage ``standard_1005`` to
``colin27_1005`` (the old names are deprecated); :func:`standard_montage`
takes whichever this MNE has, so positions never need hard-coding.
"""

from __future__ import annotations

import mne

_TEMPLATE_NAMES = ("colin27_1005", "standard_1005")


def standard_montage() -> mne.channels.DigMontage:
    """The template 10-05 montage (343 positions, includes all 10-20 and Emotiv sites)."""
    available = set(mne.channels.get_builtin_montages())
    name = next(n for n in _TEMPLATE_NAMES if n in available)
    return mne.channels.make_standard_montage(name)
