"""Channel state across windows: a flat channel is flagged once, interpolated, and predictions go on."""

from __future__ import annotations

import numpy as np
import pytest

from streaming.buffer import Event
from streaming.online import OnlinePipeline, QualityConfig
from streaming.online.quality import ChannelStates
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_online import feed, live_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

F8 = EMOTIV.index("F8")


def flat_f8(seconds: float = 16.0) -> tuple[np.ndarray, np.ndarray]:
    x = emotiv_raw(seconds=seconds, seed=21).get_data().T
    x[:, F8] = 3e-6  # flat (DC only) throughout, as S01's F8
    return x, np.arange(len(x)) / 128.0


def test_a_flat_channel_changes_state_once_and_later_windows_get_predictions():
    x, stamps = flat_f8()
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None)  # min_quality 1.0, the CLI default
    windows, events = feed(pipe, x, stamps, 10)
    channel = [e for e in events if e.kind in ("channel_bad", "channel_restored")]
    assert [(e.kind, e.detail["channel"]) for e in channel] == [("channel_bad", "F8")]
    assert channel[0].detail["reasons"] == ["flat"] and channel[0].detail["interpolated"] is True
    # Past the warm-up, F8 is bad in 3 windows (bad_after), then every window gets a prediction.
    warm = [w for w in windows if "filter warm-up" not in w.reasons]
    assert len(warm) > 50
    assert not any(w.predicted for w in warm[:2]) and all(w.predicted for w in warm[3:])
    assert all(w.quality == pytest.approx(13 / 14) for w in warm)  # the published quality still shows F8
    assert all(w.channel_quality[F8] == 0 and np.delete(w.channel_quality, F8).min() == 1 for w in warm)
    assert all(np.isnan(w.channel_quality).all() for w in windows if "filter warm-up" in w.reasons)
    # No flicker: one run of unpredicted windows (the warm-up and the hysteresis), then none.
    assert [e.kind for e in events if e.kind in ("bad_window", "quality_restored")] == ["bad_window", "quality_restored"]
    assert pipe.stats.interpolated_windows == sum(w.predicted for w in windows)


def test_a_channel_that_comes_back_is_restored_once():
    x, stamps = flat_f8()
    live = emotiv_raw(seconds=16.0, seed=21).get_data().T
    x[int(9 * 128) :, F8] = live[int(9 * 128) :, F8]  # F8 reconnected at 9 s
    windows, events = feed(OnlinePipeline(live_model(kinds=("dgcnn",)), max_lag=None), x, stamps, 10)
    kinds = [(e.kind, e.detail["channel"]) for e in events if e.kind.startswith("channel_")]
    assert kinds == [("channel_bad", "F8"), ("channel_restored", "F8")]
    restored = next(e for e in events if e.kind == "channel_restored")
    # Restored at the 5th (good_after) good window; the first with a live F8 sample ends at 9 + 1/8 - 1/128 s.
    assert restored.time == pytest.approx(9.0 + 1 / 8 - 1 / 128 + 4 * 0.125, abs=1e-6)
    assert all(w.predicted for w in windows if w.t_first > 3.5)


def test_hysteresis_ignores_short_runs_and_says_each_change_once():
    states = ChannelStates(("A", "B"), bad_after=3, good_after=5)
    flicker = [True, True, False] * 4  # bad 2 windows, good 1: never 3 in a row
    assert not any(states.update(np.array([b, False]), ("flat: A",) if b else (), 0.0, True) for b in flicker)
    assert not states.persistent.any()
    changes: list[Event] = []
    for w, bad in enumerate([True] * 3 + [False] * 4 + [True] + [False] * 5):
        changes += states.update(np.array([bad, False]), ("flat: A",) if bad else (), float(w), True)
    assert [(e.kind, e.time, e.detail["channel"]) for e in changes] == [
        ("channel_bad", 2.0, "A"), ("channel_restored", 12.0, "A")
    ]


@pytest.mark.parametrize("option", [{"quality": QualityConfig(max_interpolated=0.0)}, {"interpolate": False}])
def test_persistently_bad_channels_count_as_bad_without_interpolation(option):
    x, stamps = flat_f8(8.0)
    quality = option.pop("quality", None)
    pipe = OnlinePipeline(live_model(kinds=("dgcnn",)), quality, max_lag=None, **option)
    windows, events = feed(pipe, x, stamps, 10)
    assert not any(w.predicted for w in windows)
    bad = [e for e in events if e.kind == "channel_bad"]
    assert len(bad) == 1 and bad[0].detail["interpolated"] is False
