"""Peripheral (ECG/EDA) nodes at the global level of HiSTN and DGCNN: inputs, models, training (issue 4)."""

import copy
import dataclasses
import json

import mne
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import ModelSpec, TrainConfig, TrainWindowConfig
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import class_labels
from biosig.features.peripheral_causal import detect_ecg_events_causal, detect_eda_events_causal
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from tests.run_configs import run_config
from graphs.models import build_model, count_parameters, predict
from graphs.training.experiment import load_model, make_fold_job, model_inputs, spec_inputs
from graphs.training.splits import Fold
from graphs.training.trainer import fit, predict_proba
from graphs.training.windows_dataset import PERIPHERAL_FEATURES, PERIPHERAL_NODES, WindowSettings, cohort_windows

PERIPHERAL = {"ecg": 4, "eda": 3}
# Short windows keep HiSTN fast; the architecture is the published one.
MODELS = {
    "histn": ({"n_times": 16, "temporal_kernel": 8, "dropout": 0.2}, (14, 16)),
    "dgcnn": ({}, (14, 5)),
}
#: Typical spread of each baseline-subtracted feature in its unit (bpm, ms, ms, ms, µS, count, µS).
UNITS = np.array([8.0, 120.0, 30.0, 30.0, 1.5, 2.0, 0.3])


def planted(n: int, eeg_shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EEG of pure noise; the label is ``hr_bpm - scr_count > 0`` (in units); 10 % of windows lack the ECG."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *eeg_shape)).astype(np.float32)
    z = rng.standard_normal((n, 7))
    y = (z[:, 0] - z[:, 5] > 0).astype(np.int64)
    features = z * UNITS
    features[rng.random(n) < 0.1, :4] = np.nan
    return x, features.astype(np.float32), y


@pytest.fixture(scope="module")
def trained():
    """Per model: (peripheral model, EEG-only model, test inputs, test labels), both trained on the planted task."""
    cfg = TrainConfig(epochs=10, batch_size=128, lr=0.03, lr_steps={}, label_mode="onehot", threads=1)
    out = {}
    for name, (hparams, shape) in MODELS.items():
        x, p, y = planted(768, shape, seed=1)
        train, test = slice(0, 512), slice(512, None)
        fused = build_model(name, n_outputs=2, peripheral=PERIPHERAL, **hparams)
        fit(fused, (x[train], p[train]), y[train], None, None, 2, cfg)
        eeg_only = build_model(name, n_outputs=2, **hparams)
        fit(eeg_only, x[train], y[train], None, None, 2, cfg)
        out[name] = (fused, eeg_only, (x[test], p[test]), y[test])
    return out


@pytest.mark.parametrize("name", MODELS)
def test_peripheral_nodes_learn_a_label_only_they_carry(trained, name):
    fused, eeg_only, (x, p), y = trained[name]
    assert all(torch.isfinite(w).all() for w in fused.state_dict().values()), "NaN features reached the weights"
    fused_accuracy = (predict_proba(fused, (x, p)).argmax(axis=1) == y).mean()
    eeg_accuracy = (predict_proba(eeg_only, x).argmax(axis=1) == y).mean()
    # 256 test windows: chance is 0.5 +- 0.03; the ECG-less windows still have the SCR count.
    assert fused_accuracy >= 0.85, (name, fused_accuracy)
    assert eeg_accuracy <= 0.62, (name, eeg_accuracy)
    print(f"{name}: held-out accuracy {fused_accuracy:.3f} with ECG/EDA nodes, {eeg_accuracy:.3f} EEG only")


@pytest.mark.parametrize("name", MODELS)
def test_a_window_without_peripheral_data_gets_the_eeg_only_output(trained, name):
    fused, _, (x, p), _ = trained[name]
    x, p = x[:16], p[:16].copy()
    eeg_only = build_model(name, n_outputs=2, **MODELS[name][0])
    eeg_weights = {k: v for k, v in fused.state_dict().items() if not k.startswith("peripheral_fusion.")}
    eeg_only.load_state_dict(eeg_weights)
    p[:8] = np.nan
    with_nodes = predict(fused, (x, p)).probabilities
    reference = predict(eeg_only, x).probabilities
    np.testing.assert_allclose(with_nodes[:8], reference[:8], rtol=1e-6, atol=1e-7)
    assert np.abs(with_nodes[8:] - reference[8:]).max() > 1e-3, "the peripheral rows changed nothing"


@pytest.mark.parametrize("name", MODELS)
def test_a_missing_node_drops_out_and_a_missing_feature_is_the_baseline_level(trained, name):
    fused, _, (x, p), _ = trained[name]
    x, p = x[:16], np.nan_to_num(p[:16])
    # ECG missing: the same as an ECG node whose embedding is zero, with any ECG values.
    silent = copy.deepcopy(fused)
    with torch.no_grad():
        silent.peripheral_fusion.embed[0].weight.zero_()
        silent.peripheral_fusion.embed[0].bias.zero_()
    no_ecg = p.copy()
    no_ecg[:, :4] = np.nan
    np.testing.assert_allclose(
        predict(fused, (x, no_ecg)).probabilities, predict(silent, (x, p)).probabilities, rtol=1e-5, atol=1e-7
    )
    assert np.abs(predict(fused, (x, no_ecg)).probabilities - predict(fused, (x, p)).probabilities).max() > 1e-4
    # One missing feature of a present node counts as 0, the trial's baseline level.
    one_nan, zero = p.copy(), p.copy()
    one_nan[:, 5], zero[:, 5] = np.nan, 0.0
    np.testing.assert_array_equal(predict(fused, (x, one_nan)).probabilities, predict(fused, (x, zero)).probabilities)


def test_peripheral_nodes_add_few_parameters_and_keep_the_eeg_weights():
    for name, extra in (("histn", 5 + 4), ("dgcnn", (4 + 1 + 3 + 1) * 64)):
        plain = build_model(name, n_outputs=5, seed=3)
        fused = build_model(name, n_outputs=5, seed=3, peripheral=PERIPHERAL)
        a, b = count_parameters(plain), count_parameters(fused)
        print(f"{name}: {a.trainable} trainable EEG-only, {b.trainable} with ECG/EDA nodes (+{b.trainable - a.trainable})")
        assert b.trainable - a.trainable == extra and b.statistics - a.statistics == 2 * 7
        # The same seed draws the same EEG weights, so the two can be compared fold by fold.
        state = fused.state_dict()
        assert {k for k in state if k not in plain.state_dict()} == {k for k in state if k.startswith("peripheral_fusion.")}
        for key, value in plain.state_dict().items():
            torch.testing.assert_close(state[key], value, rtol=0, atol=0)
    assert count_parameters(build_model("histn", n_outputs=5)).trainable == 1181
    assert count_parameters(build_model("histn", n_outputs=5, peripheral=PERIPHERAL)).trainable == 1190


def test_peripheral_config_and_input_errors():
    assert build_model("histn", peripheral=(("ecg", 4), ("eda", 3))).config.peripheral == PERIPHERAL_NODES
    with pytest.raises(ConfigError, match="clashes with a channel"):
        build_model("histn", peripheral={"O1": 2})
    with pytest.raises(ConfigError, match="clashes"):
        build_model("dgcnn", peripheral={"global": 2})
    with pytest.raises(ConfigError, match="must be distinct"):
        build_model("dgcnn", peripheral=(("ecg", 4), ("ecg", 3)))
    with pytest.raises(ConfigError, match="peripheral"):
        build_model("histn", peripheral={"ecg": 0})
    for name in MODELS:
        fused = build_model(name, peripheral=PERIPHERAL, **MODELS[name][0])
        x, p = fused.example_input(3)
        assert p.shape == (3, 7) and fused(x, p).shape == (3, 5)
        with pytest.raises(DataError, match=r"needs peripheral features \(batch=3, feature=7\)"):
            fused(x)
        with pytest.raises(DataError, match=r"expects peripheral features \(batch=3, feature=7\); got shape \(3, 6\)"):
            fused(x, p[:, :6])
        with pytest.raises(DataError, match="has no peripheral nodes"):
            build_model(name, **MODELS[name][0])(x, p)


SESSION = SyntheticConfig(n_subjects=1, n_trials=2, stimulus_seconds=8, baseline_seconds=12)


@pytest.fixture(scope="module")
def session():
    return make_session(0, SESSION)


def test_peripheral_inputs_are_trailing_span_features_minus_the_baseline(session):
    settings = WindowSettings(record_seconds=6.0, hop=1.0, peripheral_seconds=4.0)
    out = cohort_windows([session], ("raw", "de"), settings)
    raw, de = out["raw"], out["de"]
    assert raw.peripheral.shape == (12, 7) and raw.peripheral.dtype == np.float32
    assert raw.peripheral_names == PERIPHERAL_FEATURES == de.peripheral_names
    assert PERIPHERAL_FEATURES[0] == "ecg:hr_bpm" and PERIPHERAL_FEATURES[4] == "eda:eda_tonic_us"
    np.testing.assert_array_equal(raw.peripheral, de.peripheral)
    assert np.isfinite(raw.peripheral).all()
    # By hand, for trial 2: ECG (256 Hz, first lead) and EDA (64 Hz) over [t + 1 - 4, t + 1) of a window at t
    # (events of the whole recording in the causal mode, those confirmed by the span's end, as live),
    # minus the mean over the 4-s tiles [b, b + 4), [b + 4, b + 8), [b + 8, b + 12) of its baseline at b.
    trial = session.trials.iloc[1]
    ecg, eda = session.ecg.get_data()[0], session.eda.get_data()[0]

    def features(starts):
        beats, scrs = detect_ecg_events_causal(ecg, 256), detect_eda_events_causal(eda, 64)
        e = ecg_features_from_beats(beats, starts, starts + 4.0, beats.detected).values
        d = eda_features_from_events(scrs, starts, starts + 4.0, scrs.detected).values
        return np.column_stack([*e.values(), *d.values()])

    baseline = features(trial.baseline_onset + np.array([0.0, 4.0, 8.0])).mean(axis=0)
    rows = np.flatnonzero(raw.meta["trial"].to_numpy() == 2)
    expected = features(raw.meta["t_start"].to_numpy()[rows] + 1.0 - 4.0) - baseline
    np.testing.assert_allclose(raw.peripheral[rows], expected, rtol=1e-5, atol=1e-4)


def test_peripheral_inputs_use_only_the_past_and_mark_missing_signals(session):
    settings = WindowSettings(record_seconds=6.0, hop=1.0, peripheral_seconds=4.0)
    before = cohort_windows([session], ("de",), settings)["de"]
    # Silence ECG and EDA from the end of trial 2's third window on: rows up to it cannot change.
    row = np.flatnonzero(before.meta["trial"].to_numpy() == 2)[2]
    cut = before.meta["t_start"].to_numpy()[row] + 1.0
    changed = {}
    for kind in ("ecg", "eda"):
        raw = getattr(session, kind)
        data = raw.get_data()
        data[:, round(cut * raw.info["sfreq"]) :] = 0.0
        changed[kind] = mne.io.RawArray(data, raw.info, verbose="error")
    after = cohort_windows([dataclasses.replace(session, **changed)], ("de",), settings)["de"]
    np.testing.assert_array_equal(after.peripheral[: row + 1], before.peripheral[: row + 1])
    assert not np.allclose(after.peripheral[row + 1], before.peripheral[row + 1], equal_nan=True)
    # No ECG recording: its four columns are missing (NaN), the EDA ones are not.
    no_ecg = cohort_windows([dataclasses.replace(session, ecg=None)], ("de",), settings)["de"]
    assert np.isnan(no_ecg.peripheral[:, :4]).all()
    np.testing.assert_array_equal(no_ecg.peripheral[:, 4:], before.peripheral[:, 4:])
    with pytest.raises(DataError, match=r"subject S01: trials \[1, 2\] have baselines of \[12.0, 12.0\] s, shorter than"):
        cohort_windows([session], ("de",), WindowSettings(record_seconds=6.0, peripheral_seconds=13.0))
    assert cohort_windows([session], ("de",), WindowSettings(record_seconds=6.0))["de"].peripheral is None


def test_fold_jobs_carry_the_peripheral_rows(session):
    data = cohort_windows([session], ("de",), WindowSettings(record_seconds=6.0, peripheral_seconds=4.0))["de"]
    spec = ModelSpec(name="dgcnn", hparams={"peripheral": PERIPHERAL})
    cfg = run_config(models=(spec,), windows={"record_seconds": 6.0, "peripheral_seconds": 4.0})
    y = class_labels(data.meta["arousal"].to_numpy(), "binary")
    fold = Fold("S01/0", train=np.arange(6), val=np.arange(6, 8), test=np.arange(8, 12), finetune=np.array([9, 11]))
    job = make_fold_job(data, y, 2, spec, "arousal", "binary", "loso", fold, cfg, cfg.evaluation.seeds[0])
    for rows, (x, p) in ((fold.train, job.x_train), (fold.test, job.x_test), (fold.finetune, job.x_finetune)):
        np.testing.assert_array_equal(x, data.x[rows])
        np.testing.assert_array_equal(p, data.peripheral[rows])
    assert isinstance(spec_inputs(data, ModelSpec(name="dgcnn")), np.ndarray)
    with pytest.raises(DataError, match="set its windows.peripheral_seconds"):
        spec_inputs(dataclasses.replace(data, peripheral=None), spec)
    with pytest.raises(ConfigError, match="dgcnn has peripheral nodes; set its windows.peripheral_seconds"):
        model_inputs([session], [spec.model_copy(update={"windows": TrainWindowConfig(record_seconds=6.0)})])
    odd = ModelSpec(name="dgcnn", hparams={"peripheral": {"ecg": 4}})
    with pytest.raises(ConfigError, match=r"dgcnn has peripheral nodes \{'ecg': 4\}; the peripheral inputs are"):
        model_inputs([session], [odd.model_copy(update={"windows": cfg.models[0].windows})])


def test_train_command_runs_models_with_peripheral_nodes(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(
        "source: {synthetic: {n_subjects: 2, n_trials: 8, stimulus_seconds: 8, baseline_seconds: 10}, via_files: false}\n"
        "models:\n"
        "  - {name: histn, hparams: {peripheral: {ecg: 4, eda: 3}}, windows: {record_seconds: 8, peripheral_seconds: 5}}\n"
        "  - {name: dgcnn, hparams: {peripheral: {ecg: 4, eda: 3}}, windows: {record_seconds: 8, peripheral_seconds: 5}}\n"
        "evaluation: {protocols: [within_subject], tasks: [binary], targets: [arousal], n_folds: 2, max_folds: 1}\n"
        f"train: {{epochs: 2, batch_size: 32, threads: 1, checkpoint_dir: {tmp_path / 'ckpt'}}}\n"
    )
    result = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    histn = metrics["histn"]["arousal"]["binary"]["within_subject"]
    assert histn["parameters"] == 1121 + 9  # binary HiSTN + the two embeddings
    folds = metrics["dgcnn"]["arousal"]["binary"]["within_subject"]["folds"]
    model, meta = load_model(folds[0]["checkpoint"])
    assert model.config.peripheral == PERIPHERAL_NODES and meta["model"] == "dgcnn"
    assert predict(model, model.example_input(4)).probabilities.shape == (4, 2)
