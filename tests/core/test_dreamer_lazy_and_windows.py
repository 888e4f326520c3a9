"""Fast paths that must give the same result as the plain ones.

* DREAMER.mat read per subject from byte offsets (:mod:`biosig.datasets.mat_elements`)
  equals the full ``scipy.io.loadmat`` parse exactly; compressed files fall back to it.
* :func:`~biosig.preprocess.windows.slice_windows` (the pipeline's windows, no
  ``EpochsArray``) equals the old ``moveaxis(get_data()[:, idx])`` exactly.
"""

import numpy as np
import pandas as pd

from biosig.config import WindowConfig
from biosig.datasets import dreamer
from biosig.datasets.mat_elements import struct_index
from biosig.datasets.writers import random_dreamer_subject, write_dreamer_mat
from biosig.preprocess.windows import make_epochs, slice_windows, window_indices, window_table
from tests.helpers import emotiv_raw


def _subjects():
    return [random_dreamer_subject(k, n_trials=3, stimulus_seconds=[5.0, 6.5, 7.0]) for k in range(3)]


def _same_session(a, b):
    assert a.subject == b.subject
    np.testing.assert_array_equal(a.eeg.get_data(), b.eeg.get_data())
    np.testing.assert_array_equal(a.ecg.get_data(), b.ecg.get_data())
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert a.info == b.info


def test_one_subject_read_from_its_bytes_equals_the_full_parse(tmp_path):
    path = write_dreamer_mat(_subjects(), tmp_path / "DREAMER.mat")
    assert struct_index(path, "DREAMER") is not None
    full = dreamer._read_struct(path)
    cells = full["Data"].reshape(-1, order="F")
    rates = {"eeg": 128.0, "ecg": 256.0}
    for k in (3, 1):
        (lazy,) = dreamer.load_dreamer(path, subjects=[k])
        _same_session(lazy, dreamer._subject_session(path, cells[k - 1], k, rates))


def test_compressed_file_is_read_whole_with_the_same_sessions(tmp_path):
    plain = write_dreamer_mat(_subjects(), tmp_path / "plain.mat")
    packed = write_dreamer_mat(_subjects(), tmp_path / "packed.mat", compress=True)
    assert struct_index(packed, "DREAMER") is None
    for a, b in zip(dreamer.load_dreamer(plain), dreamer.load_dreamer(packed)):
        b.info["file"] = a.info["file"]
        _same_session(a, b)


def test_slice_windows_equals_the_epochs_path_exactly():
    raw = emotiv_raw(seconds=62.0)
    trials = pd.DataFrame(
        [dict(trial=1, baseline_onset=0.0, baseline_duration=10.0, stimulus_onset=10.0, stimulus_duration=20.0,
              valence=1, arousal=2, dominance=3),
         dict(trial=2, baseline_onset=31.0, baseline_duration=10.0, stimulus_onset=41.0, stimulus_duration=20.0,
              valence=1, arousal=2, dominance=3)]
    )
    table = window_table(trials, WindowConfig(length=1.0, hop=0.25))
    starts = table.t_start.to_numpy()
    data = slice_windows(raw, starts, 1.0, "test")
    idx = window_indices(starts, 1.0, 128.0, raw.n_times, "test")
    np.testing.assert_array_equal(data, np.ascontiguousarray(np.moveaxis(raw.get_data()[:, idx], 0, 1)))
    np.testing.assert_array_equal(data, make_epochs(raw, table, 1.0, "test").get_data())
    assert data.flags.c_contiguous and not np.shares_memory(data, raw._data)
