"""Whole-recording and block trials (``trials.from: recording``) with conditions from path fields.

File: PhysioNet eegmat ``Subject00_1.edf`` (ODC-By 1.0; Zyma et al. 2019), 182 s of rest at 500 Hz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biosig.config.trials import LabelsConfig, TrialsConfig
from biosig.errors import ConfigError
from biosig.io import read_session
from biosig.trials import apply_trials

EDF = "physionet-eegmat/Subject00_1.edf"
LABELS = LabelsConfig(from_field="session", map={"1": "rest", "2": "arithmetic"})


@pytest.fixture(scope="module")
def rest(shared_data: Path):
    return read_session(shared_data / EDF)


def test_blocks_are_consecutive_trials_labelled_by_the_path_field(rest, shared_data: Path) -> None:
    trials = TrialsConfig.model_validate({"from": "recording", "block_seconds": 30})
    out = apply_trials(rest, trials, LABELS, {"subject": "00", "session": "1"}, shared_data / EDF)
    assert out.trials["trial"].tolist() == [1, 2, 3, 4, 5, 6]  # 182 s: six 30-s blocks, 2 s left over
    np.testing.assert_allclose(out.trials["stimulus_onset"], np.arange(6) * 30.0)
    np.testing.assert_allclose(out.trials["stimulus_duration"], 30.0)
    assert (out.trials["baseline_duration"] == 0).all()
    assert out.trials["condition"].tolist() == ["rest"] * 6
    assert any("last 2.00 s" in w for w in out.info["warnings"])


def test_whole_recording_is_one_trial(rest, shared_data: Path) -> None:
    trials = TrialsConfig.model_validate({"from": "recording"})
    out = apply_trials(rest, trials, LabelsConfig(from_field="session"), {"session": "2"}, shared_data / EDF)
    assert out.trials[["stimulus_onset", "stimulus_duration", "condition"]].values.tolist() == [[0.0, 182.0, "2"]]


def test_unmapped_value_and_missing_field_are_config_errors(rest, shared_data: Path) -> None:
    trials = TrialsConfig.model_validate({"from": "recording", "block_seconds": 60})
    with pytest.raises(ConfigError, match=r"session = '3'.*labels.map is \{'1': 'rest', '2': 'arithmetic'\}"):
        apply_trials(rest, trials, LABELS, {"subject": "00", "session": "3"}, shared_data / EDF)
    with pytest.raises(ConfigError, match=r"Subject00_1.edf has no field 'session'.*\['subject'\]"):
        apply_trials(rest, trials, LABELS, {"subject": "00"}, shared_data / EDF)


def test_from_source_returns_the_session_unchanged(rest, shared_data: Path) -> None:
    assert apply_trials(rest, TrialsConfig(), LabelsConfig(), {}, shared_data / EDF) is rest
