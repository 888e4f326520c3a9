"""What a live session publishes besides predictions: per-channel quality, and why it stopped."""

from __future__ import annotations

import json
import time

import numpy as np
import pylsl
import pytest

from biosig.errors import DataError
from streaming.api import LiveSession
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_faults import LOW_PASS, wait_for
from tests.live.test_stream_online import live_model
from tests.live.test_stream_parity import open_inlet, pull_all

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def eeg_outlet(name: str, source_id: str, channels: tuple[str, ...]) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo(name, "EEG", len(channels), 128.0, pylsl.cf_float32, source_id)
    info.set_channel_labels(list(channels))
    info.set_channel_units("microvolts")
    return pylsl.StreamOutlet(info)


def markers_until(inlet: pylsl.StreamInlet, event: str, timeout: float = 10.0) -> list[dict]:
    """The decoded markers up to the first ``event`` and in the half second after it (waits with a deadline).

    Waiting for a count instead would miss ``event`` whenever a loaded machine adds a marker
    before it (a ``buffer_overrun``, say).
    """
    sent: list[dict] = []
    deadline = time.monotonic() + timeout
    while not any(m["event"] == event for m in sent):
        assert time.monotonic() < deadline, f"no {event} marker in {[m['event'] for m in sent]}"
        marks, _ = inlet.pull_chunk(timeout=0.2)
        sent += [json.loads(m[0]) for m in marks]
    marks, _ = inlet.pull_chunk(timeout=0.5)  # and any that follow soon after (a repeated one, say)
    return sent + [json.loads(m[0]) for m in marks]


def test_the_session_publishes_per_channel_quality_as_the_live_view_reads_it():
    name = "biosig-quality-eeg"
    outlet = eeg_outlet(name, "quality-eeg", EMOTIV)
    x = (emotiv_raw(seconds=6.0, seed=31).get_data().T * 1e6).astype(np.float32)
    x[:, EMOTIV.index("T7")] = 3.0  # flat
    stamps = pylsl.local_clock() + np.arange(len(x)) / 128.0
    live = LiveSession(
        live_model(kinds=("dgcnn",), filt=LOW_PASS), f"name={name}", dejitter=False, max_lag=None,
        outlet_name="biosig-affect-q", source_id="affect-q", queue_size=10_000,
    )  # fmt: skip
    with live:
        quality = open_inlet("biosig-affect-q-quality")
        affect = open_inlet("biosig-affect-q")
        assert outlet.wait_for_consumers(5.0)
        outlet.push_chunk(x, stamps.tolist())
        expected = int((6.0 - 1.0) / 0.125) + 1
        wait_for(lambda: live.stats()["windows"] == expected, 20.0, "every window processed")
        values, q_stamps = pull_all(quality, expected)
        _, a_stamps = pull_all(affect, expected)
        info = quality.info()
    # What streaming.liveview's QualityFollower expects: float32, labels = the EEG channels, one sample per window.
    assert info.type() == "Quality" and info.channel_format() == pylsl.cf_float32
    assert info.channel_count() == len(EMOTIV) and info.get_channel_labels() == list(EMOTIV)
    assert info.nominal_srate() == pytest.approx(8.0) and info.source_id() == "affect-q-quality"
    assert len(values) == expected
    np.testing.assert_allclose(q_stamps, a_stamps)  # stamped as the window's affect sample
    late = np.array(values[-10:])
    assert (late[:, EMOTIV.index("T7")] == 0).all() and (np.delete(late, EMOTIV.index("T7"), axis=1) == 1).all()


def test_a_source_back_with_another_layout_publishes_layout_changed_then_stops():
    name = "biosig-layout-eeg"
    outlet = eeg_outlet(name, "layout-eeg", EMOTIV)
    live = LiveSession(
        live_model(kinds=("dgcnn",), filt=LOW_PASS), f"name={name}", dejitter=False, max_lag=None, lost_after=5.0,
        outlet_name="biosig-affect-layout", source_id="affect-layout",
    )  # fmt: skip
    # lost_after well above the silence before the first push: with 0.5 s a loaded machine could drop the
    # idle inlet before the test pushed. Deleting the outlet is noticed at once (the connection closes).
    x = (emotiv_raw(seconds=2.0, seed=32).get_data().T * 1e6).astype(np.float32)
    with live:
        markers = open_inlet("biosig-affect-layout-markers")
        assert outlet.wait_for_consumers(5.0)
        outlet.push_chunk(x, (pylsl.local_clock() + np.arange(len(x)) / 128.0).tolist())
        wait_for(lambda: live.stats()["windows"] > 0, 20.0, "windows")
        del outlet  # the source stops...
        wait_for(lambda: any(e.kind == "stream_lost" for e in live.events), 10.0, "stream_lost")
        # ...and comes back (same name and source_id) with three channels.
        other = eeg_outlet(name, "layout-eeg", ("Fp1", "Fp2", "Cz"))
        deadline = time.monotonic() + 20.0
        with pytest.raises(DataError, match="came back with other channels"):
            while time.monotonic() < deadline:
                other.push_chunk(np.zeros((16, 3), np.float32))
                live.get(timeout=0.1)
        sent = markers_until(markers, "layout_changed")
    changed = [m for m in sent if m["event"] == "layout_changed"]
    assert len(changed) == 1
    assert changed[0]["old_channels"] == list(EMOTIV) and changed[0]["new_channels"] == ["Fp1", "Fp2", "Cz"]
    assert changed[0]["stream"] == name and changed[0]["old_rate"] == changed[0]["new_rate"] == 128.0
    assert "removed AF3" in next(e for e in live.events if e.kind == "layout_changed").describe()
