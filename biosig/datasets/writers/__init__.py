"""Test-fixture writers: files in the exact structure of the DREAMER, DEAP, SEED and WESAD downloads.

The real datasets cannot be downloaded here (and forbid redistribution), so the
adapters are tested on files written by these functions, from sessions or from
seeded random data. Each writer produces what the adapter's module docstring
describes as the real file's structure:

* :func:`write_dreamer_mat`: ``DREAMER.mat``, MATLAB v5, one struct ``DREAMER``
  (see :mod:`biosig.datasets.dreamer`); :func:`dreamer_struct` returns that
  struct as nested dicts and object arrays so a test can break one field and
  save it with :func:`scipy.io.savemat`.
* :func:`write_deap_dat`: ``data_preprocessed_python/sXX.dat``, a pickle with
  Python 2's opcodes (byte strings for keys and array buffers, numpy arrays
  rebuilt by ``numpy.core.multiarray._reconstruct``), so it is read the way
  the real files are: ``encoding="latin1"`` through the restricted unpickler.
  :func:`write_deap_bdf` writes an original 24-bit ``sXX.bdf`` recording with
  the status-channel protocol of :mod:`biosig.datasets.deap`.
* :func:`write_seed_mat` and :func:`write_seed_label_mat`:
  ``Preprocessed_EEG/{subject}_{yyyymmdd}.mat`` and ``label.mat``.
* :func:`write_wesad_pkl`: ``SX/SX.pkl``, a Python-2 style pickle like DEAP's.

Sizes: a DREAMER-scale cohort (23 subjects x 18 trials of 61 s baseline + 60 s
stimulus, EEG 14 channels at 128 Hz, ECG 2 leads at 256 Hz, float64) is
0.92 GB of arrays, written uncompressed as a 0.92 GB file. ``scipy.io.savemat``
writes one variable at a time and the ``DREAMER`` struct is one variable, so
those arrays are held together; pass the sessions as a generator
(``(make_session(k, cfg) for k in range(23))``) and each is reduced to its
arrays as soon as it arrives, so only one session's ``mne.io.Raw`` objects
exist at a time. Measured on the synthetic cohort: peak RSS 1.35 GB for
the whole write (99 s, mostly generating the sessions); a list of 23
sessions would add ~0.95 GB. Reading that file back with
:func:`~biosig.datasets.dreamer.load_dreamer` peaks at 1.25 GB (5 s).

One module per format: :mod:`.dreamer`, :mod:`.deap`, :mod:`.seed`,
:mod:`.wesad`, and :mod:`.py2_pickle` (the Python-2 pickle writer DEAP and
WESAD share).
"""

from biosig.datasets.writers.dreamer import dreamer_struct, dreamer_subject_from_session, random_dreamer_subject, write_dreamer_mat
from biosig.datasets.writers.deap import random_deap_subject, write_deap_bdf, write_deap_dat
from biosig.datasets.writers.py2_pickle import py2_pickle_dumps, write_py2_pickle
from biosig.datasets.writers.seed import random_seed_trials, write_seed_label_mat, write_seed_mat
from biosig.datasets.writers.wesad import random_wesad_subject, write_wesad_pkl

__all__ = [
    "dreamer_struct",
    "dreamer_subject_from_session",
    "py2_pickle_dumps",
    "random_deap_subject",
    "random_dreamer_subject",
    "random_seed_trials",
    "random_wesad_subject",
    "write_deap_bdf",
    "write_deap_dat",
    "write_dreamer_mat",
    "write_py2_pickle",
    "write_seed_label_mat",
    "write_seed_mat",
    "write_wesad_pkl",
]
