"""Datasets: the deterministic synthetic DREAMER-like cohort and adapters for public emotion datasets."""

from biosig.datasets.deap import load_deap, read_deap_bdf, read_deap_bdf_raw, read_deap_dat
from biosig.datasets.dreamer import load_dreamer
from biosig.datasets.seed import load_seed, read_seed_labels, read_seed_mat
from biosig.datasets.synthetic import (
    DREAMER_CLIPS,
    EMOTIV_CHANNELS,
    SyntheticConfig,
    make_cohort,
    make_session,
)
from biosig.datasets.wesad import load_wesad, read_wesad_pkl

__all__ = [
    "DREAMER_CLIPS",
    "EMOTIV_CHANNELS",
    "SyntheticConfig",
    "make_cohort",
    "make_session",
    # public dataset adapters
    "load_deap",
    "load_dreamer",
    "load_seed",
    "load_wesad",
    "read_deap_bdf",
    "read_deap_bdf_raw",
    "read_deap_dat",
    "read_seed_labels",
    "read_seed_mat",
    "read_wesad_pkl",
]
