"""Calibration reports flat and noisy channels of the rest and refuses it (issue 16: a dead F8 went through).

Synthetic subject S01 has a dead F8 (standard deviation 0.02 µV): ``biosig
calibrate`` refuses that rest with exit 2, naming F8 and why; the rule is the
offline one (:func:`biosig.preprocess.eeg.detect_bad_channels`), so a noisy
channel is refused too, and the stream calibration restarts on it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import FeatureConfig, FilterConfig, WindowConfig
from biosig.errors import DataError
from graphs.models import build_model
from graphs.regions import emotiv14_histn
from streaming.calibrate import StreamCalibrator, rest_bad_channels, rest_statistics
from streaming.model_io import LiveSpec, live_metadata, save_live_checkpoint

CHANNELS = emotiv14_histn().channels
SPEC = LiveSpec(
    CHANNELS, 128.0, WindowConfig(length=1.0, hop=0.125), FilterConfig(method="iir", causal=True, l_freq=None,
    h_freq=40.0, line_freq=None), "average", FeatureConfig(), calibrate=True, max_scale=np.ones(14),
)  # fmt: skip
#: S01 as the issue found it: F8 dead, the other channels tens of µV.
DEAD_F8 = "synthetic:S01?" + urlencode(
    {"n_subjects": 1, "n_trials": 1, "stimulus_seconds": 4.0, "baseline_seconds": 12.0, "blinks": False}
)


def rest(seed: int = 0, seconds: float = 12.0) -> np.ndarray:
    """Rest ``(14, n_times)`` V at 128 Hz: independent 20 µV noise per channel."""
    return np.random.default_rng(seed).normal(0.0, 20e-6, (len(CHANNELS), int(seconds * 128)))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A HiSTN checkpoint whose normalisation waits for a calibration."""
    path = tmp_path_factory.mktemp("uncalibrated") / "histn-valence-five_class.pt"
    meta = live_metadata("histn", {"n_outputs": 5}, SPEC, target="valence", scale=[1, 2, 3, 4, 5])
    return save_live_checkpoint(path, build_model("histn", n_outputs=5), meta)


def test_cli_refuses_a_rest_with_a_dead_channel_and_names_it(checkpoint, tmp_path):
    out = tmp_path / "calibrated"
    result = CliRunner().invoke(app, ["calibrate", str(checkpoint), "--from", DEAD_F8, "--seconds", "8",
                                      "--out", str(out)])  # fmt: skip
    flat = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "F8" in flat and "flat" in flat, result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())  # nothing written


def test_flat_and_noisy_channels_follow_the_offline_rule():
    x = rest()
    f8, o1 = CHANNELS.index("F8"), CHANNELS.index("O1")
    assert rest_bad_channels(x, CHANNELS) == {}
    x[f8] *= 0.02 / 20  # 0.02 µV: the dead F8 of the issue
    x[o1] *= 100  # 2 mV of noise among 20 µV channels
    bad = rest_bad_channels(x, CHANNELS)
    assert list(bad) == ["O1", "F8"] or set(bad) == {"O1", "F8"}
    assert bad["F8"].startswith("flat") and bad["O1"].startswith("noisy")
    with pytest.raises(DataError, match=r"F8.*flat"):
        rest_statistics(x, SPEC, 64, source="rest")


def test_stream_calibration_restarts_on_a_dead_channel_and_says_why():
    x = rest(1).T
    x[:, CHANNELS.index("F8")] *= 0.001
    calibrator = StreamCalibrator(SPEC, seconds=2.0)
    need = calibrator.needed
    _, events = calibrator.feed(x[:need], 10.0 + np.arange(need) / 128.0)
    assert calibrator.result is None
    assert [e.kind for e in events] == ["calibrating", "calibrating"]
    assert "F8" in events[1].detail["reason"] and "flat" in events[1].detail["reason"]
