"""``configs/neurokit_events.yaml`` end to end: photosensor events, a label table, event-locked ECG/EDA features.

Data: NeuroKit2's ``bio_eventrelated_100hz.csv`` (MIT, neuropsychology/NeuroKit ``data/``; 150 s of ECG, EDA,
photosensor and respiration at 100 Hz). The pictures' conditions come from NeuroKit2's documentation (the
"Event-related Analysis" example), shipped as ``configs/neurokit_events_labels.csv``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.cohort import run_cohort
from biosig.config import load_config
from tests.helpers import REPO_ROOT

CONFIG = REPO_ROOT / "configs" / "neurokit_events.yaml"
#: NeuroKit2's documented onsets (samples): ``events_find`` reports the last sample before the drop.
DOCUMENTED_ONSETS = [1023, 4957, 9223, 12983]


def test_photosensor_events_labels_and_event_locked_features(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the config's paths are relative to the repository root
    out, cache = tmp_path / "report", tmp_path / "cache"
    options = [f"report.out_dir={out}", f"cache.dir={cache}"]
    result = CliRunner().invoke(app, ["run", str(CONFIG), *[a for o in options for a in ("--set", o)]])
    assert result.exit_code == 0, result.output

    # the run's features, from the cache it filled
    cohort = run_cohort(load_config(CONFIG, options), out)
    assert cohort.computed == [] and cohort.cached == ["bio_eventrelated_100hz"]
    features = cohort.features.compute()

    # onsets: the first sample at or below 2.5 V after one above it (counted here with numpy), each within one
    # sample of the onsets NeuroKit2 documents
    photosensor = pd.read_csv(shared_data / "neurokit2" / "bio_eventrelated_100hz.csv")["Photosensor"].to_numpy()
    falling = np.flatnonzero((photosensor[:-1] > 2.5) & (photosensor[1:] <= 2.5)) + 1
    assert falling.tolist() == [1024, 4957, 9224, 12984]
    onsets = np.round(features["t_start"].to_numpy() * 100).astype(int)
    assert onsets.tolist() == falling.tolist()
    np.testing.assert_allclose(onsets, DOCUMENTED_ONSETS, atol=1)
    assert features["condition"].values.tolist() == ["Negative", "Neutral", "Neutral", "Negative"]
    assert features["trial"].values.tolist() == [1, 2, 3, 4]

    # event-locked heart rate and EDA in every 4-s epoch
    for name in ("hr_bpm", "hrv_meannn_ms", "eda_tonic_us", "scr_count", "scr_amplitude_us"):
        assert np.isfinite(features[name].values).all(), name
    assert ((features["hr_bpm"] > 40) & (features["hr_bpm"] < 120)).all()
    assert ((features["eda_tonic_us"] > 1) & (features["eda_tonic_us"] < 30)).all()  # µS, as the file stores

    # nothing could be evaluated: both protocols skipped, with the reason, in metrics, run info and report
    assert json.loads((out / "metrics.json").read_text()) == {"logreg": {}}
    notes = json.loads((out / "run_info.json").read_text())["notes"]
    report = (out / "report.md").read_text()
    for why in (
        "within_subject skipped: 5 folds need at least 5 trials per subject, subject bio_eventrelated_100hz has 4",
        "loso skipped: leave one subject out needs at least 2 subjects, the cohort has 1",
    ):
        assert any(why in note for note in notes), notes
        assert why in report
