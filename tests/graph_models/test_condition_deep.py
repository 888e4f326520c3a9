"""A deep model on condition labels: the trial table's ``condition`` column gives the classes the trainer sees."""

import numpy as np
import pytest

import graphs.training.folds as folds_module
from biosig.datasets.synthetic import SyntheticConfig, make_cohort
from biosig.config import ModelSpec
from graphs.training.deep_inputs import model_inputs
from graphs.training.experiment import run_experiment
from tests.run_configs import run_config

TINY = SyntheticConfig(
    n_subjects=2, n_trials=8, stimulus_seconds=4, baseline_seconds=12, valence_effect=3.0,
    atypical_subject_probability=0.0, bad_channel_probability=0.0, blinks=False, line_noise=False, drifts=False,
)  # fmt: skip
SETTINGS = dict(
    models=(ModelSpec(name="dgcnn", hparams={"hidden": 8}),),
    windows={"record_seconds": 4},
    targets=("condition",),
    tasks=("five_class",),
    protocols=("within_subject", "loso"),
    n_folds=2,
    epochs=2,
    batch_size=16,
    threads=1,
)


def _sessions(names=("calm", "tense")):
    """The synthetic cohort with a condition per trial: ``tense`` where valence > 3 (cycled for more names)."""
    out = []
    for session in make_cohort(TINY):
        high = (session.trials["valence"] > 3).to_numpy()
        order = np.argsort(~high, kind="stable")  # alternate classes so every subject has both
        labels = np.empty(len(high), dtype=object)
        labels[order] = [names[i % len(names)] for i in range(len(high))]
        session.trials = session.trials.assign(condition=labels.astype(str))
        out.append(session)
    return out


@pytest.fixture(scope="module")
def inputs():
    cfg = run_config(**SETTINGS)
    return model_inputs(_sessions(), cfg.models)


def test_condition_labels_reach_the_trainer(inputs, monkeypatch):
    assert set(inputs["de"].meta["condition"]) == {"calm", "tense"}
    seen = []
    original = folds_module.fit

    def spy(model, x_train, y_train, *args, **kwargs):
        seen.append(np.asarray(y_train))
        return original(model, x_train, y_train, *args, **kwargs)

    monkeypatch.setattr(folds_module, "fit", spy)
    notes: list[str] = []
    metrics, predictions = run_experiment(inputs, run_config(**SETTINGS), notes=notes)
    assert list(metrics["dgcnn"]["condition"]) == ["binary"]
    meta = inputs["de"].meta
    expected = (meta["condition"] == "tense").to_numpy().astype(int)
    for protocol in ("within_subject", "loso"):
        entry = metrics["dgcnn"]["condition"]["binary"][protocol]
        assert entry["classes"] == ["calm", "tense"]
        assert 0.0 <= entry["roc_auc"] <= 1.0 or np.isnan(entry["roc_auc"])
    assert seen and all(set(np.unique(y)) <= {0, 1} for y in seen)
    assert sum(len(y) for y in seen) > 0 and any(len(np.unique(y)) == 2 for y in seen)
    rows = predictions[predictions["protocol"] == "loso"]
    truth = dict(zip(zip(meta["subject"], meta["trial"]), expected))
    assert all(truth[(s, t)] == y for s, t, y in zip(rows["subject"], rows["trial"], rows["y_true"]))
    assert notes == []


def test_one_subject_skips_loso_with_a_note(inputs):
    one = {k: _subset(ws, "S01") for k, ws in inputs.items()}
    notes: list[str] = []
    cfg = run_config(**(SETTINGS | {"protocols": ("loso",)}))
    metrics, _ = run_experiment(one, cfg, notes=notes)
    assert metrics == {}
    assert notes == ["dgcnn: condition binary: loso skipped: leave one subject out needs at least 2 subjects, the cohort has 1"]


def _subset(ws, subject):
    import dataclasses

    rows = (ws.meta["subject"] == subject).to_numpy()
    peripheral = None if ws.peripheral is None else ws.peripheral[rows]
    return dataclasses.replace(ws, x=ws.x[rows], meta=ws.meta[rows].reset_index(drop=True), peripheral=peripheral)
