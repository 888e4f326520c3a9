"""Session sources of recorded data, one per subject, for every ``source.kind`` but ``synthetic``.

- :mod:`biosig.sources.files`: ``files``, recordings matched by ``source.pattern``
  (:mod:`biosig.sources.pattern` captures the path fields);
- :mod:`biosig.sources.bids`: ``bids``, a BIDS dataset through mne-bids;
- :mod:`biosig.sources.datasets`: ``dreamer``, ``deap``, ``seed``, ``wesad``;
- :mod:`biosig.sources.concat`: a subject's recordings joined into one session;
- :mod:`biosig.sources.identity`: input identities for the cache key.

Every source is a small picklable frozen dataclass following
:class:`biosig.cohort_sources.SessionSource`; :func:`biosig.cohort_sources.sources_from_config`
picks the builder by ``source.kind``.
"""

from biosig.sources.bids import BidsSource, bids_sources
from biosig.sources.concat import concatenate_sessions
from biosig.sources.datasets import DatasetSource, dataset_sources
from biosig.sources.files import FilesSource, files_sources
from biosig.sources.identity import CONTENT_HASH_MAX_BYTES, file_identity, trial_sections_identity
from biosig.sources.pattern import match_files, pattern_glob, pattern_regex

__all__ = [
    "CONTENT_HASH_MAX_BYTES",
    "BidsSource",
    "DatasetSource",
    "FilesSource",
    "bids_sources",
    "concatenate_sessions",
    "dataset_sources",
    "file_identity",
    "files_sources",
    "match_files",
    "pattern_glob",
    "pattern_regex",
    "trial_sections_identity",
]
