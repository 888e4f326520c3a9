"""Faults over LSL: the source dies and comes back, a slow consumer, disordered stamps and a clock jump."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pylsl
import pytest

from biosig.config import FilterConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from streaming.api import LiveSession
from streaming.replay import Replayer, load_source
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_online import live_model
from tests.live.test_stream_parity import open_inlet, pull_all

# Low-pass only: a warm-up of a few samples instead of 4 s, so the test need not wait for predictions.
LOW_PASS = FilterConfig(method="iir", causal=True, line_freq=None, l_freq=None)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_source_killed_and_restarted_the_pipeline_marks_the_gap_and_resumes(tmp_path):
    prefix = "biosig-faults"
    recording = tmp_path / "S03_raw.fif"
    make_session(2, SyntheticConfig(n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0)).eeg.save(recording)
    replay = subprocess.Popen(
        [sys.executable, "-c", "from biosig.cli import main; main()", "replay", str(recording), "--loop",
         "--prefix", prefix],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    restarted: Replayer | None = None
    try:
        assert pylsl.resolve_byprop("name", f"{prefix}-eeg", timeout=60.0), "the replay process did not start"
        # DGCNN in another channel order than the stream's: the session picks channels by name.
        model = live_model(channels=tuple(reversed(EMOTIV)), kinds=("dgcnn",), filt=LOW_PASS)
        live = LiveSession(
            model, f"name={prefix}-eeg", lost_after=1.0, outlet_name="biosig-affect-faults", source_id="faults",
            queue_size=10_000, max_lag=None,
        )  # fmt: skip
        results = []

        def collect(condition, timeout, what):
            def ready():
                while (r := live.get(timeout=0)) is not None:
                    results.append(r)
                return condition()

            wait_for(ready, timeout, what)

        with live:
            markers = open_inlet("biosig-affect-faults-markers")
            collect(lambda: any(r.predicted for r in results), 30.0, "predictions")
            replay.kill()
            replay.wait(timeout=10)
            collect(lambda: any(e.kind == "stream_lost" for e in live.events), 10.0, "stream_lost")
            restarted = Replayer(load_source(recording), loop=True, prefix=prefix)  # same source_id
            player = threading.Thread(target=restarted.run, daemon=True)
            player.start()
            collect(lambda: any(r.predicted and r.segment > 0 for r in results), 30.0, "predictions after the restart")
            assert live._thread is not None and live._thread.is_alive() and live.error is None
            marks, _ = pull_all(markers, 3, numeric=False)
            stats = live.stats()
    finally:
        replay.kill()
        if restarted is not None:
            restarted.stop()
    kinds = [e.kind for e in live.events]
    assert kinds.index("stream_lost") < kinds.index("stream_recovered")
    assert stats["streams"][f"{prefix}-eeg"]["losses"] == 1 and stats["streams"][f"{prefix}-eeg"]["recoveries"] == 1
    sent = [json.loads(m[0]) for m in marks]
    assert {"stream_lost", "stream_recovered"} <= {m["event"] for m in sent}
    lost = next(m for m in sent if m["event"] == "stream_lost")
    assert lost["stream"] == f"{prefix}-eeg" and lost["reason"]
    # No window spans the gap: every window is one second of contiguous samples, and the
    # windows after the restart all start after the last one before it ended.
    before = [r for r in results if r.segment == 0]
    after = [r for r in results if r.segment > 0]
    assert before and after
    assert max(r.t_last for r in before) < min(r.t_first for r in after)
    for r in results:
        assert r.t_last - r.t_first == pytest.approx(127 / 128, abs=1e-3)
    assert "filter warm-up" in after[0].reasons  # the filters restarted from rest


def test_slow_consumer_never_blocks_and_stamp_faults_are_counted():
    name = "biosig-slow-eeg"
    info = pylsl.StreamInfo(name, "EEG", len(EMOTIV), 128.0, pylsl.cf_float32, "slow-eeg")
    info.set_channel_labels(list(EMOTIV))
    info.set_channel_units("microvolts")
    outlet = pylsl.StreamOutlet(info)
    x = (emotiv_raw(seconds=12.0, seed=11).get_data().T * 1e6).astype(np.float32)
    t0 = pylsl.local_clock()
    stamps = t0 + np.arange(len(x)) / 128.0
    stamps[300] = stamps[299]  # duplicate
    stamps[600], stamps[601] = stamps[601], stamps[600]  # swapped
    stamps[8 * 128 :] -= 20.0  # the sender's clock jumps back
    live = LiveSession(
        live_model(kinds=("dgcnn",), filt=LOW_PASS), f"name={name}", dejitter=False, queue_size=5, max_lag=None,
        outlet_name="biosig-affect-slow", source_id="slow", buffer_seconds=30.0,
    )  # fmt: skip
    with live:
        affect = open_inlet("biosig-affect-slow")
        assert outlet.wait_for_consumers(5.0)
        sizes = np.random.default_rng(12).integers(1, 60, size=len(x))
        i = k = 0
        while i < len(x):
            outlet.push_chunk(x[i : i + sizes[k]], stamps[i : i + sizes[k]].tolist())
            i, k = i + sizes[k], k + 1
        # Nobody reads the session's iterator meanwhile.
        expected = (int((8.0 - 1.0) / 0.125) + 1) + (int((4.0 - 1.0) / 0.125) + 1)
        wait_for(lambda: live.stats()["windows"] == expected, 20.0, "every window processed")
        published, _ = pull_all(affect, expected)
        kept = [live.get(timeout=1.0) for _ in range(5)]
        stats = live.stats()
    assert len(published) == expected  # the LSL outlet got every window
    assert stats["dropped"] == expected - 5
    assert [r.index for r in kept] == list(range(expected - 5, expected))  # the newest five were kept
    assert stats["duplicate_stamps"] == 1 and stats["out_of_order_stamps"] == 1
    assert stats["clock_jumps"] == 1 and stats["gaps"] == 0 and stats["segments"] == 2
    assert stats["chunks"] <= k  # pulled in chunks, not sample by sample
