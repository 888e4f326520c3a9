"""Per-window feature functions on already-windowed arrays.

The ECG/EDA functions live in :mod:`biosig.features.peripheral` and are not
imported here: NeuroKit2 takes seconds to import, which the EEG-only live
pipeline should not pay.
"""

from biosig.features.eeg import DEFAULT_BANDS, band_power, differential_entropy, frontal_asymmetry

__all__ = ["DEFAULT_BANDS", "band_power", "differential_entropy", "frontal_asymmetry"]
