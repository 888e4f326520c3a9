"""Reuse of session files a run already wrote (biosig.io.written_sessions via SyntheticSource)."""

import numpy as np

from biosig.cohort_sources import SyntheticSource
from biosig.datasets.synthetic import SyntheticConfig
from biosig.io.written_sessions import manifest_path, reuse_written_session

CONFIG = SyntheticConfig(n_subjects=2, n_trials=2, baseline_seconds=4.0, stimulus_seconds=6.0, seed=3)


def _same(a, b):
    assert a.subject == b.subject and a.info == b.info
    np.testing.assert_array_equal(a.eeg.get_data(), b.eeg.get_data())
    np.testing.assert_array_equal(a.ecg.get_data(), b.ecg.get_data())
    assert a.trials.equals(b.trials)


def test_second_call_reads_the_written_files_and_gives_the_same_session(tmp_path, monkeypatch):
    source = SyntheticSource(1, CONFIG, tmp_path)
    first = source()
    assert manifest_path(tmp_path, "S02").exists()
    calls = []
    monkeypatch.setattr("biosig.cohort_sources.make_session", lambda *a: calls.append(a))
    second = source()
    assert calls == []  # nothing regenerated
    _same(first, second)


def test_changed_file_or_other_identity_is_not_reused(tmp_path):
    source = SyntheticSource(0, CONFIG, tmp_path)
    fresh = source()
    other = SyntheticSource(0, CONFIG.model_copy(update={"seed": 4}), tmp_path)
    assert reuse_written_session(tmp_path, "S01", other.identity()) is None
    eeg = tmp_path / "S01_eeg.edf"
    data = bytearray(eeg.read_bytes())
    data[-1] ^= 0xFF
    eeg.write_bytes(bytes(data))
    assert reuse_written_session(tmp_path, "S01", source.identity()) is None
    _same(fresh, source())  # regenerated and rewritten
    assert reuse_written_session(tmp_path, "S01", source.identity()) is not None


def test_damaged_manifest_is_not_reused(tmp_path):
    source = SyntheticSource(0, CONFIG, tmp_path)
    source()
    manifest_path(tmp_path, "S01").write_text("{not json", encoding="utf-8")
    assert reuse_written_session(tmp_path, "S01", source.identity()) is None
