"""DEAP (Koelstra et al. 2012): preprocessed ``sXX.dat`` and original ``sXX.bdf`` -> labelled sessions.

- :mod:`biosig.datasets.deap.common`: the dataset (32 subjects, 40 videos,
  ratings on 1-9), channel tables, rating scale, shared helpers;
- :mod:`biosig.datasets.deap.preprocessed`: ``data_preprocessed_python/sXX.dat``
  (:func:`load_deap`, :func:`read_deap_dat`);
- :mod:`biosig.datasets.deap.bdf`: ``data_original/sXX.bdf``
  (:func:`read_deap_bdf_raw`, :func:`read_deap_bdf`).
"""

from biosig.datasets.deap.bdf import (
    BDF_EEG_CHANNELS,
    BDF_EXG_CHANNELS,
    BDF_EXG_MEANING,
    STATUS_CODES,
    read_deap_bdf,
    read_deap_bdf_raw,
)
from biosig.datasets.deap.common import (
    BASELINE_SECONDS,
    BINARY_THRESHOLD,
    CHANNELS,
    EEG_CHANNELS,
    GSR_UNIT,
    PERIPHERAL_SLOTS,
    PERIPHERAL_TYPES,
    RATING_SCALE,
    SFREQ,
    TARGETS,
)
from biosig.datasets.deap.preprocessed import PICKLE_BUDGET, load_deap, read_deap_dat

__all__ = [
    "BASELINE_SECONDS",
    "BDF_EEG_CHANNELS",
    "BDF_EXG_CHANNELS",
    "BDF_EXG_MEANING",
    "BINARY_THRESHOLD",
    "CHANNELS",
    "EEG_CHANNELS",
    "GSR_UNIT",
    "PERIPHERAL_SLOTS",
    "PERIPHERAL_TYPES",
    "PICKLE_BUDGET",
    "RATING_SCALE",
    "SFREQ",
    "STATUS_CODES",
    "TARGETS",
    "load_deap",
    "read_deap_bdf",
    "read_deap_bdf_raw",
    "read_deap_dat",
]
