"""Readable text of every event (console, event lists); the marker stream keeps the JSON."""

from __future__ import annotations

import json

import pytest

from streaming.buffer import Event
from streaming.outlet import describe_marker, marker_text

CASES = [
    (Event("bad_window", 1.0, {"quality": 0.9285714285714286, "reasons": ["flat: F8"]}),
     "bad window: quality 0.93 (flat: F8)"),
    (Event("quality_restored", 1.0, {"quality": 1.0}), "quality restored: 1.00"),
    (Event("stream_lost", 1.0, {"stream": "eeg", "reason": "no samples for 2 s"}), "stream lost: eeg (no samples for 2 s)"),
    (Event("stream_recovered", 1.0, {"stream": "eeg"}), "stream recovered: eeg"),
    (Event("gap", 1.0, {"from": 1.0, "to": 4.0, "jump_s": 3.0078125}),
     "gap of 3.01 s in the stamps: filters and windows restart"),
    (Event("clock_jump", 1.0, {"from": 9.0, "to": -21.0, "jump_s": -30.0}),
     "clock jump of -30.00 s: filters and windows restart"),
    (Event("channel_bad", 1.0, {"channel": "F8", "reasons": ["flat"], "interpolated": True}),
     "channel F8 bad (flat): interpolated until it recovers"),
    (Event("channel_restored", 1.0, {"channel": "F8"}), "channel F8 restored"),
    (Event("calibrating", 1.0, {"reason": "start", "seconds": 30.0, "warmup_seconds": 4.0}),
     "calibrating: 30 s of rest needed (start)"),
    (Event("calibrated", 1.0, {"seconds": 30.0, "mean_uV": [0.1], "std_uV": [2.0]}), "calibrated on 30 s of rest"),
    (Event("buffer_overrun", 1.0, {"stream": "eeg", "samples": 512}),
     "buffer overrun: 512 samples of eeg lost (processing behind)"),
    (Event("layout_changed", 1.0, {"stream": "eeg", "old_channels": ["A", "B", "C"], "new_channels": ["A", "D"],
                                   "old_rate": 128.0, "new_rate": 256.0}),
     "layout changed: eeg came back with 3 -> 2 channels; added D; removed B,C; rate 128 -> 256 Hz; stopping"),
    (Event("something_new", 1.0, {"x": 0.123456, "names": ["a", "b"]}), "something new: x=0.12, names=a,b"),
    (Event("bad_window", 1.0, {"unexpected": 1}), "bad window: unexpected=1"),
]  # fmt: skip


@pytest.mark.parametrize(("event", "text"), CASES)
def test_every_event_reads_as_one_line_and_the_marker_keeps_the_structure(event, text):
    assert event.describe() == text
    assert json.loads(marker_text(event)) == {"event": event.kind, **event.detail}


@pytest.mark.parametrize(("event", "text"), CASES)
def test_marker_strings_read_back_as_the_same_line(event, text):
    assert describe_marker(marker_text(event)) == text


@pytest.mark.parametrize("free", ["stream lost", '["a"]', '{"no_event": 1}', "{"])
def test_other_marker_text_is_shown_unchanged(free):
    assert describe_marker(free) == free
