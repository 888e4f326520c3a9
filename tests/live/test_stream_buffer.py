"""Ring buffers, the drop-oldest queue and the prediction log."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from biosig.errors import ConfigError, DataError
from streaming.buffer import Cursor, Event, RingBuffer
from streaming.online import WindowResult
from streaming.outlet import DropOldestQueue, marker_text
from streaming.prediction_log import LOG_COLUMNS, PredictionLog


def test_ring_buffer_reads_in_order_and_counts_what_a_slow_reader_missed():
    buf = RingBuffer(2, 10)
    cursor = Cursor()
    buf.append(np.arange(12.0).reshape(6, 2), np.arange(6.0))
    first = buf.read(cursor)
    assert first.start == 0 and first.missed == 0 and first.stamps.tolist() == [0, 1, 2, 3, 4, 5]
    buf.append(np.arange(24.0).reshape(12, 2), 6.0 + np.arange(12))  # 12 more: the buffer keeps 10
    second = buf.read(cursor)
    assert second.missed == 2 and second.start == 8 and second.stamps.tolist() == list(range(8, 18))
    np.testing.assert_array_equal(second.data, np.arange(24.0).reshape(12, 2)[2:])
    assert buf.read(cursor).data.shape == (0, 2)
    assert buf.get(15, 18).shape == (3, 2)
    with pytest.raises(DataError, match="holding 8..18"):
        buf.get(2, 5)


def test_get_and_stamps_across_the_wrap_of_the_ring():
    buf = RingBuffer(2, 8)
    data = np.arange(26.0).reshape(13, 2)
    buf.append(data[:6], np.arange(6.0))
    buf.append(data[6:], np.arange(6.0, 13.0))  # holds samples 5..12, stored from slot 5 round to slot 4
    for start, stop in [(5, 13), (6, 8), (7, 11), (8, 8), (12, 13)]:
        np.testing.assert_array_equal(buf.get(start, stop), data[start:stop])
        np.testing.assert_array_equal(buf.stamps(start, stop), np.arange(start, stop, dtype=float))
    got = buf.get(6, 10)
    got[:] = -1.0  # a copy: the buffer keeps its samples
    np.testing.assert_array_equal(buf.get(6, 10), data[6:10])


def test_events_come_in_order_with_the_samples():
    buf = RingBuffer(1, 100)
    cursor = Cursor()
    buf.append(np.zeros((3, 1)), np.arange(3.0))
    buf.add_event(Event("stream_lost", 3.5))
    buf.append(np.zeros((2, 1)), np.arange(2.0) + 10)
    buf.add_event(Event("stream_recovered", 12.0))
    read = buf.read(cursor)
    assert [(pos, e.kind) for pos, e in read.events] == [(3, "stream_lost"), (5, "stream_recovered")]
    assert buf.read(cursor).events == []  # each event once


def test_wait_blocks_until_data_or_timeout_without_polling():
    buf = RingBuffer(1, 8)
    cursor = Cursor()
    t0 = time.monotonic()
    assert buf.wait(cursor, timeout=0.2) is False
    assert time.monotonic() - t0 >= 0.19
    threading.Timer(0.05, lambda: buf.append(np.ones((1, 1)), np.zeros(1))).start()
    assert buf.wait(cursor, timeout=5.0) is True
    buf.close()
    assert buf.wait(Cursor(sample=1), timeout=5.0) is False  # closed: returns at once


def test_between_selects_a_time_span():
    buf = RingBuffer(1, 4)
    buf.append(np.arange(6.0)[:, None], np.arange(6.0) * 0.5)
    data, stamps = buf.between(1.0, 2.5)
    assert stamps.tolist() == [1.0, 1.5, 2.0] and data[:, 0].tolist() == [2.0, 3.0, 4.0]


def test_drop_oldest_queue_never_blocks_and_counts_drops():
    queue = DropOldestQueue(3)
    for i in range(10):
        queue.put(i)
    assert queue.dropped == 7 and [queue.get(timeout=0) for _ in range(3)] == [7, 8, 9]
    with pytest.raises(TimeoutError):
        queue.get(timeout=0.05)
    queue.close()
    with pytest.raises(EOFError):
        queue.get(timeout=1.0)
    with pytest.raises(ConfigError):
        DropOldestQueue(0)


def _result(i: int, predicted: bool) -> WindowResult:
    value = float(i) if predicted else float("nan")
    values = {"valence": value, "arousal": 2 * value, "valence_confidence": 0.5, "arousal_confidence": 0.25}
    return WindowResult(i, 0, 10.0 + i, 11.0 + i, values, 1.0 if predicted else 0.0, () if predicted else ("flat: O2",))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_prediction_log_round_trip(tmp_path, suffix):
    log = PredictionLog(tmp_path / f"preds{suffix}", batch=4)
    log.start()
    for i in range(10):
        log.put(_result(i, predicted=i % 3 != 0))
    log.close()
    table = pd.read_csv(log.path) if suffix == ".csv" else pd.read_parquet(log.path)
    assert list(table.columns) == list(LOG_COLUMNS) and len(table) == 10 and log.written == 10
    assert table["timestamp"].tolist() == [11.0 + i for i in range(10)]
    assert table["valence"].isna().tolist() == [i % 3 == 0 for i in range(10)]
    assert table.loc[1, "arousal"] == 2.0 and table.loc[0, "reasons"] == "flat: O2"


def test_prediction_log_refuses_other_formats(tmp_path):
    with pytest.raises(ConfigError, match="csv or .parquet"):
        PredictionLog(tmp_path / "preds.txt")


def test_marker_text_is_json_with_the_event_kind():
    assert marker_text(Event("gap", 1.0, {"jump_s": 3.0})) == '{"event": "gap", "jump_s": 3.0}'
