import numpy as np
import pandas as pd
import pytest

from biosig.config import BaselineConfig, WindowConfig
from biosig.errors import DataError
from biosig.preprocess.windows import (
    baseline_zscore,
    drop_annotated_windows,
    make_epochs,
    slice_windows,
    window_table,
)
from tests.helpers import emotiv_raw


def _trials(n=2, base=10.0, stim=20.0, gap=1.0):
    rows = []
    t = 0.0
    for k in range(1, n + 1):
        rows.append(dict(trial=k, baseline_onset=t, baseline_duration=base, stimulus_onset=t + base,
                         stimulus_duration=stim, valence=k, arousal=5 - k, dominance=3))
        t += base + stim + gap
    return pd.DataFrame(rows)


def test_window_table_tiles_each_stimulus():
    table = window_table(_trials(), WindowConfig(length=4.0, hop=2.0))
    assert len(table) == 2 * 9  # floor((20 - 4) / 2) + 1
    first = table[table.trial == 1]
    np.testing.assert_allclose(first.t_start, 10.0 + 2.0 * np.arange(9))
    assert (first.window == np.arange(9)).all()


def test_baseline_segment_selection():
    table = window_table(_trials(), WindowConfig(length=2.0, hop=2.0), "baseline", BaselineConfig(start=4.0, stop=8.0))
    np.testing.assert_allclose(table[table.trial == 2].t_start, [35.0, 37.0])


def test_too_short_trial_is_named():
    with pytest.raises(DataError, match="trial 1 stimulus segment lasts 3.00 s, shorter than one 4.0 s window"):
        window_table(_trials(stim=3.0), WindowConfig(length=4.0, hop=1.0), label="subject S01")


def test_slices_and_epochs_are_the_raw_samples():
    raw = emotiv_raw(seconds=62.0)
    table = window_table(_trials(), WindowConfig(length=1.0, hop=0.5))
    data = slice_windows(raw, table.t_start.to_numpy(), 1.0, "test")
    assert data.shape == (len(table), 14, 128)
    k = 5
    start = int(round(table.t_start[k] * 128))
    np.testing.assert_array_equal(data[k], raw.get_data()[:, start:start + 128])
    epochs = make_epochs(raw, table, 1.0, "test")
    np.testing.assert_array_equal(epochs.get_data(), data)
    assert list(epochs.metadata.trial) == list(table.trial)
    with pytest.raises(DataError, match="past the end"):
        slice_windows(raw, np.array([61.5]), 1.0, "test")


def test_baseline_zscore_uses_the_trials_own_baseline():
    raw = emotiv_raw(seconds=62.0)
    raw._data[:, 31 * 128:] = raw._data[:, 31 * 128:] * 4 + 1e-4  # trial 2 at another scale and offset
    trials = _trials()
    table = window_table(trials, WindowConfig(length=10.0, hop=10.0), "baseline")
    data = slice_windows(raw, table.t_start.to_numpy(), 10.0, "test")
    z = baseline_zscore(raw, trials, table, data, BaselineConfig(), "test")
    for k in range(len(table)):
        np.testing.assert_allclose(z[k].mean(axis=1), 0, atol=1e-9)
        np.testing.assert_allclose(z[k].std(axis=1), 1, rtol=1e-9)


def test_windows_over_bad_annotations_are_dropped():
    raw = emotiv_raw(seconds=62.0)
    raw.set_annotations(raw.annotations + __import__("mne").Annotations([15.5], [1.0], ["BAD_ACQ_SKIP"]))
    table = window_table(_trials(), WindowConfig(length=4.0, hop=2.0))
    kept, dropped = drop_annotated_windows(table, raw, 4.0)
    # Trial 1 windows start at 10, 12, 14, 16, ...: those starting at 12, 14 and 16 touch [15.5, 16.5).
    assert dropped == 3
    assert not ((kept.t_start < 16.5) & (kept.t_start + 4.0 > 15.5)).any()
    assert len(kept) == len(table) - 3
