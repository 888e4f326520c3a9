"""`biosig run` and `biosig train` write the statistics of issue 13: per-entry statistics and statistics.json."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biosig.cli import app

TINY = (
    "source: {synthetic: {n_subjects: 3, n_trials: 6, stimulus_seconds: 16, baseline_seconds: 12}, via_files: false}\n"
    "evaluation: {targets: [valence], tasks: [binary], protocols: [within_subject], n_folds: 3, permutations: 2}\n"
    "train: {epochs: 1, threads: 1}\n"
)
MODELS = (
    "models:\n"
    "  - {name: logreg}\n"
    "  - {name: histn, permutations: 0, windows: {record_seconds: 16}}\n"
)
SCHEMA_KEYS = {"metric", "unit", "per_subject", "per_subject_sd", "ci", "chance", "not_above_chance", "seeds", "stimulus_baseline"}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    config = folder / "run.yaml"
    config.write_text(TINY + MODELS)
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return folder / "out"


def _entries(metrics: dict):
    for model, by_target in metrics.items():
        for target, by_task in by_target.items():
            for task, by_protocol in by_task.items():
                for protocol, entry in by_protocol.items():
                    yield (model, target, task, protocol), entry


def test_every_entry_has_consistent_statistics(report):
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics) == {"logreg", "histn"}
    for key, entry in _entries(metrics):
        stats = entry["statistics"]
        assert set(stats) >= SCHEMA_KEYS, key
        assert stats["metric"] == "f1_weighted" and stats["unit"] == "subject"
        assert set(stats["per_subject"]) == set(stats["per_subject_sd"]) == {"S01", "S02", "S03"}
        assert stats["ci"]["mean"] == pytest.approx(np.mean(list(stats["per_subject"].values())))
        assert stats["ci"]["mean"] == pytest.approx(entry["f1_weighted"])
        assert stats["ci"]["method"] == "t" and stats["ci"]["n"] == 3
        assert stats["ci"]["low"] <= stats["ci"]["mean"] <= stats["ci"]["high"]
        assert isinstance(stats["not_above_chance"], bool)
        assert stats["not_above_chance"] == (stats["ci"]["low"] <= stats["chance"]["level"])
        assert stats["seeds"]["values"] == [pytest.approx(entry["f1_weighted"])]
        assert stats["stimulus_baseline"]["applicable"] is True
        assert 0 <= stats["stimulus_baseline"]["score"] <= 1


def test_permutations_per_model_override_the_global_value(report):
    metrics = json.loads((report / "metrics.json").read_text())
    logreg = metrics["logreg"]["valence"]["binary"]["within_subject"]["statistics"]["chance"]
    histn = metrics["histn"]["valence"]["binary"]["within_subject"]
    assert logreg["kind"] == "permutation" and logreg["n_permutations"] == 2
    assert logreg["level"] == logreg["null_mean"] and 1 / 3 <= logreg["p_value"] <= 1
    chance = histn["statistics"]["chance"]
    assert chance["kind"] == "stratified" and chance["p_value"] is None and chance["n_permutations"] == 0
    assert chance["level"] == pytest.approx(histn["chance_f1_weighted"])
    statistics = json.loads((report / "statistics.json").read_text())
    assert statistics["budget"]["permutations"] == {"logreg": 2, "histn": 0}


def test_models_hold_out_the_same_trials(report):
    predictions = pd.read_csv(report / "predictions.csv")
    held_out = {
        model: {fold: set(zip(g["subject"], g["trial"])) for fold, g in rows.groupby("fold")}
        for model, rows in predictions[predictions["protocol"] == "within_subject"].groupby("model")
    }
    assert held_out["logreg"] == held_out["histn"]
    assert len(held_out["logreg"]) == 3 * 3


def test_statistics_json_compares_the_models(report):
    statistics = json.loads((report / "statistics.json").read_text())
    assert set(statistics) == {"comparisons", "protocol_gaps", "budget", "notes"}
    (family,) = statistics["comparisons"]
    assert (family["target"], family["task"], family["protocol"]) == ("valence", "binary", "within_subject")
    (pair,) = family["pairs"]
    assert (pair["a"], pair["b"], pair["n"]) == ("logreg", "histn", 3)
    assert pair["p_holm"] == pytest.approx(pair["p_value"])
    assert statistics["budget"]["models"]["histn"]["epochs"] == 1
    assert statistics["budget"]["seeds"] == [0]


def test_train_writes_statistics_json(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(TINY.replace("permutations: 2", "permutations: 0") + "models: [{name: histn, windows: {record_seconds: 16}}]\n")
    result = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert statistics["comparisons"] == [] and statistics["budget"]["permutations"] == {"histn": 0}
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["histn"]["valence"]["binary"]["within_subject"]["statistics"]["chance"]["kind"] == "stratified"
