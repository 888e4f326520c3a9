"""Random crops of records (graphs.training.crops): spans respected, balanced, seeded, the authors' fold spans."""

from __future__ import annotations

import numpy as np
import pytest

from biosig.errors import ConfigError, DataError
from graphs.training.crops import CropSampler, histn_crop_spans


def _records(n_records: int = 6, n_channels: int = 3, n_samples: int = 400) -> np.ndarray:
    """Records whose value encodes (record, channel, sample), so every crop can be traced back."""
    r, c, s = np.meshgrid(np.arange(n_records), np.arange(n_channels), np.arange(n_samples), indexing="ij")
    return (r * 1_000_000 + c * 10_000 + s).astype(np.float64)


def test_crops_are_the_records_samples_and_lie_inside_a_span() -> None:
    records = _records()
    spans = [(0, 100), (150, 260), (300, 330)]  # the last span is too short for a 40-sample crop
    sampler = CropSampler(records, np.array([0, 1, 1, 2, 2, 2]), spans, crop_samples=40, seed=3)
    crops = sampler.draw(5000)
    assert crops.x.shape == (5000, 3, 40) and crops.x.dtype == np.float32
    expected = records[crops.record[:, None], :, crops.start[:, None] + np.arange(40)]
    np.testing.assert_array_equal(crops.x, np.moveaxis(expected, 2, 1).astype(np.float32))
    ends = crops.start + 40
    inside = ((crops.start >= 0) & (ends <= 100)) | ((crops.start >= 150) & (ends <= 260))
    assert inside.all()
    # Every allowed start is reachable, including the last one of each span.
    assert {0, 60, 150, 220} <= set(crops.start.tolist())
    assert not ((crops.start > 60) & (crops.start < 150)).any()


def test_per_record_spans_and_records_of_different_lengths() -> None:
    records = [np.arange(200, dtype=float)[None, :] + 1000 * k for k in range(3)]
    spans = [(0, 10, 60), (1, 100, 140), (2, 0, 200), (2, 0, 0)]
    sampler = CropSampler(records, np.array([0, 1, 0]), spans, crop_samples=20, seed=0)
    crops = sampler.draw(3000)
    for k, (lo, hi) in {0: (10, 60), 1: (100, 140), 2: (0, 200)}.items():
        mine = crops.record == k
        assert mine.any()
        assert (crops.start[mine] >= lo).all() and (crops.start[mine] + 20 <= hi).all()
    np.testing.assert_array_equal(crops.x[:, 0, 0], 1000 * crops.record + crops.start)
    np.testing.assert_array_equal(np.diff(crops.x[:, 0, :], axis=1), 1.0)


def test_balanced_draw_gives_equal_label_frequencies_and_equal_trials_within_a_label() -> None:
    labels = np.array([0, 1, 1, 1, 1, 3])  # unbalanced trials: one trial of 0, four of 1, one of 3
    sampler = CropSampler(_records(), labels, [(0, 400)], crop_samples=128, seed=1)
    crops = sampler.draw(30_000)
    freq = np.bincount(crops.y, minlength=4) / len(crops.y)
    np.testing.assert_allclose(freq[[0, 1, 3]], 1 / 3, atol=0.015)
    assert freq[2] == 0
    per_trial = np.bincount(crops.record[crops.y == 1], minlength=6)[1:5] / (crops.y == 1).sum()
    np.testing.assert_allclose(per_trial, 0.25, atol=0.02)
    uniform = sampler.draw(30_000, balanced=False)
    np.testing.assert_allclose(np.bincount(uniform.y, minlength=4) / 30_000, [1 / 6, 4 / 6, 0, 1 / 6], atol=0.015)


def test_draws_are_seeded() -> None:
    args = (_records(), np.arange(6) % 2, [(0, 400)], 50)
    a, b = CropSampler(*args, seed=7).draw(64), CropSampler(*args, seed=7).draw(64)
    np.testing.assert_array_equal(a.start, b.start)
    np.testing.assert_array_equal(a.record, b.record)
    assert not np.array_equal(CropSampler(*args, seed=8).draw(64).start, a.start)


def test_steps_per_epoch_is_the_authors_starts_times_trials_over_batch() -> None:
    records = np.zeros((18, 14, 7680))
    spans = histn_crop_spans(0, 7680, 128)["train"]
    sampler = CropSampler(records, np.arange(18) % 5, spans, crop_samples=128)
    # Authors: (train_win[1] - train_win[0] - seg_len) * 18 // 256 with train_win = (768, 6912).
    assert sampler.steps_per_epoch(256) == (6912 - 768 - 128) * 18 // 256


def test_histn_crop_spans_match_the_authors_data_split_10() -> None:
    n, crop = 7680, 128
    # Fold 0: test block 0, validation block 9, training starts randint(768, 6912 - 128).
    s0 = histn_crop_spans(0, n, crop)
    np.testing.assert_array_equal(s0["train"], [[768, 6912 - 1]])
    np.testing.assert_array_equal(s0["test"], [[0, 768]])
    np.testing.assert_array_equal(s0["val"], [[6912, 7680]])
    # Fold 9: training (0, 6144), starts randint(0, 6144 - 128).
    np.testing.assert_array_equal(histn_crop_spans(9, n, crop)["train"], [[0, 6144 - 1]])
    # Fold 5: starts arange(0, 3072 - 128) and arange(4608, ...) (the last crop, ending at 7680, is kept here).
    s5 = histn_crop_spans(5, n, crop)
    np.testing.assert_array_equal(s5["train"], [[0, 3072 - 129 + 128], [4608, 7680]])
    np.testing.assert_array_equal(s5["val"], [[3072, 3840]])
    np.testing.assert_array_equal(s5["test"], [[3840, 4608]])


def test_invalid_inputs_raise() -> None:
    records = _records()
    labels = np.arange(6)
    with pytest.raises(DataError, match="no allowed span"):
        CropSampler(records, labels, [(0, 30)], crop_samples=40)
    with pytest.raises(DataError, match="overlap"):
        CropSampler(records, labels, [(0, 100), (90, 200)], crop_samples=40)
    with pytest.raises(DataError, match="record's length"):
        CropSampler(records, labels, [(0, 401)], crop_samples=40)
    with pytest.raises(DataError, match="record_labels"):
        CropSampler(records, labels[:5], [(0, 100)], crop_samples=40)
    with pytest.raises(ConfigError):
        histn_crop_spans(10, 7680, 128)
