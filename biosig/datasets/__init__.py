"""Embedded datasets: the deterministic synthetic DREAMER-like cohort."""

from biosig.datasets.synthetic import (
    DREAMER_CLIPS,
    EMOTIV_CHANNELS,
    SyntheticConfig,
    make_cohort,
    make_session,
)

__all__ = ["DREAMER_CLIPS", "EMOTIV_CHANNELS", "SyntheticConfig", "make_cohort", "make_session"]
