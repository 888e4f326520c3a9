"""The per-subject feature cache: keys, exact round trip, failed writes, orphaned temporary entries
(a write killed by SIGKILL is tested in test_cohort.py, where the next run resumes)."""

import os
import socket
import time

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from biosig.cache import FeatureCache, entry_key, feature_config
from biosig.config import config_from_dict
from biosig.datasets.synthetic import make_session
from biosig.errors import DataError
from biosig.pipeline import session_features

TINY = {"source": {"synthetic": {"n_subjects": 2, "n_trials": 2, "baseline_seconds": 8, "stimulus_seconds": 10}}}
IDENTITY = {"kind": "test", "subject": 1}


@pytest.fixture(scope="module")
def result():
    cfg = config_from_dict(TINY)
    return session_features(make_session(0, cfg.source.synthetic), cfg)


def test_key_changes_with_features_config_and_identity_only():
    base = config_from_dict(TINY)
    key = entry_key(IDENTITY, base)
    unrelated = {
        "name": "other",
        "evaluation": {"n_folds": 3},
        "models": [{"name": "logreg", "hparams": {"C": 1.0}}],
        "report": {"out_dir": "elsewhere"},
        "cache": {"workers": 2},
        "source": {"synthetic": {"n_subjects": 5}},
    }
    for section, value in unrelated.items():
        assert entry_key(IDENTITY, config_from_dict({**TINY, section: value})) == key, section
    relevant = [
        {"preprocess": {"filter": {"l_freq": 2.0}}},
        {"preprocess": {"baseline": {"mode": "zscore"}}},
        {"windows": {"length": 2.0}},
        {"features": {"peripheral": False}},
        # Same bands in another order: another band coordinate, so another entry.
        {"features": {"bands": {"alpha": [8, 13], "theta": [4, 8]}}},
        {"features": {"bands": {"theta": [4, 8], "alpha": [8, 13]}}},
    ]
    keys = {entry_key(IDENTITY, config_from_dict({**TINY, **change})) for change in relevant}
    assert len(keys) == len(relevant) and key not in keys
    assert entry_key({**IDENTITY, "subject": 2}, base) != key
    assert set(feature_config(base)) == {"preprocess", "windows", "features"}


def test_identity_without_canonical_json_is_refused():
    with pytest.raises(DataError, match="cannot be hashed"):
        entry_key({"loader": object()}, config_from_dict(TINY))


def test_entry_round_trips_exactly_and_opens_lazily(tmp_path, result):
    features = result.features.copy(deep=True)
    features["hr_bpm"][3] = np.nan  # missing peripheral windows must stay NaN, not a fill value
    stored = type(result)(result.subject, features, result.log, result.eeg_info)
    cache = FeatureCache(tmp_path)
    info = {"bad_channels": ["T7"], "latent": np.array([1.5, 2.0]), "seed": np.int64(3)}
    cache.write("k1", stored, IDENTITY, info)

    back = cache.open("k1")
    assert isinstance(back.features["de"].data, da.Array)
    assert isinstance(back.features["subject"].data, np.ndarray)  # coordinates are loaded
    assert list(back.features.data_vars) == list(features.data_vars)
    xr.testing.assert_identical(back.features.load(), features)
    assert back.subject == result.subject and back.log == result.log
    assert back.eeg_info.ch_names == result.eeg_info.ch_names
    for key in ("sfreq", "highpass", "lowpass", "bads"):
        assert back.eeg_info[key] == result.eeg_info[key], key
    # FIF stores positions as float32: exactly the float32 rounding of the originals.
    np.testing.assert_array_equal(
        [ch["loc"] for ch in back.eeg_info["chs"]],
        np.float32([ch["loc"] for ch in result.eeg_info["chs"]]),
    )
    meta = cache.meta("k1")
    assert meta["source"] == IDENTITY
    assert meta["session_info"] == {"bad_channels": ["T7"], "latent": [1.5, 2.0], "seed": 3}
    assert cache.keys() == ["k1"]


def test_second_writer_of_a_key_leaves_the_first_entry(tmp_path, result):
    cache = FeatureCache(tmp_path)
    first = cache.write("k", result, IDENTITY)
    stamp = (first / "meta.json").stat().st_mtime_ns
    assert cache.write("k", result, IDENTITY) == first
    assert (first / "meta.json").stat().st_mtime_ns == stamp
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failed_write_leaves_neither_entry_nor_temporary_files(tmp_path, result):
    cache = FeatureCache(tmp_path)
    broken = result.features.assign_attrs(not_serialisable=object())
    with pytest.raises(TypeError):
        cache.write("k", type(result)(result.subject, broken, result.log, result.eeg_info), IDENTITY)
    assert not cache.has("k") and list((tmp_path / "tmp").iterdir()) == []


def test_clean_orphans_spares_live_recent_writers_and_removes_stale_ones(tmp_path):
    cache = FeatureCache(tmp_path)
    live = tmp_path / "tmp" / f"k.{socket.gethostname()}.{os.getpid()}.abc"
    remote = tmp_path / "tmp" / "k.some-other.host.example.123.def"
    for folder in (live, remote):
        (folder / "features.zarr").mkdir(parents=True)
    assert cache.clean_orphans(older_than=time.time() - 3600) == []
    assert sorted(cache.clean_orphans(older_than=time.time() + 1)) == sorted([live, remote])
    assert list((tmp_path / "tmp").iterdir()) == []


def test_unreadable_entry_names_its_folder(tmp_path, result):
    cache = FeatureCache(tmp_path)
    folder = cache.write("k", result, IDENTITY)
    (folder / "eeg-info.fif").write_bytes(b"not a fif file")
    with pytest.raises(DataError, match=str(folder)):
        cache.open("k")

