"""End-to-end deep-model experiments on small synthetic cohorts.

Two cohorts. The beats-chance check runs on the synthetic cohort with all its
artefacts (blinks, 50 Hz mains, drifts, bad channels, atypical subjects) and
the EEG effects x3, through the MNE preprocessing a user would run (causal
notch and 1-45 Hz band-pass, bad channels interpolated, average reference) and
baseline z-scoring without HiSTN's per-record maximum division: the maximum of
a record is usually a blink, and dividing by it also removes the trial-level
power changes that carry valence and arousal. With the default x1 effects and
1-s windows, even a logistic regression on the DE of held-out trials is only a
few points above chance (0.67 vs 0.61 valence, 0.64 vs 0.62 arousal, 4
subjects, 5 folds): like real DREAMER, the default cohort is hard under
leakage-free protocols by design. The other checks use a cohort made to be
learnable in seconds: 36 trials of 20 s, effects x3, no artefacts.
"""

import json

import numpy as np
import pytest
from scipy.signal import welch
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import ModelSpec, PreprocessConfig, RunConfig, config_from_dict
from biosig.datasets.synthetic import SyntheticConfig, make_cohort, make_session
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import class_labels, corrected_labels
from biosig.features.eeg import DEFAULT_BANDS
from tests.run_configs import fold_settings, run_config
from graphs.training.experiment import (
    load_model,
    make_fold_job,
    model_inputs,
    protocol_folds,
    run_experiment,
)
from graphs.training.trainer import predict_proba
from graphs.training.windows_dataset import WindowSettings, cohort_windows

LEARNABLE = SyntheticConfig(
    n_subjects=4,
    n_trials=36,
    stimulus_seconds=20,
    baseline_seconds=12,
    valence_effect=3.0,
    arousal_effect=3.0,
    atypical_subject_probability=0.0,
    bad_channel_probability=0.0,
    blinks=False,
    line_noise=False,
    drifts=False,
)
FAST = dict(
    windows={"record_seconds": 20},
    protocols=("within_subject",),
    n_folds=4,
    max_folds=1,
    epochs=15,
    batch_size=32,
    lr=0.03,
    lr_steps={10: 0.01},
    threads=1,
)


@pytest.fixture(scope="module")
def inputs():
    cfg = run_config(models=(ModelSpec(name="histn"), ModelSpec(name="dgcnn")), **FAST)
    return model_inputs(make_cohort(LEARNABLE), cfg.models)


#: The synthetic cohort with its artefacts (defaults) and effects x3.
WITH_ARTEFACTS = SyntheticConfig(
    n_subjects=4, n_trials=36, stimulus_seconds=20, baseline_seconds=20, valence_effect=3.0, arousal_effect=3.0
)
#: What a user runs before a deep model on such data (biosig.preprocess.eeg.preprocess_eeg).
CLEANING = PreprocessConfig.model_validate(
    {
        "filter": {"line_freq": 50, "l_freq": 1.0, "h_freq": 45.0, "method": "iir", "causal": True},
        "bad_channels": {"enabled": True, "noisy_z": 5.0, "interpolate": True},
        "reference": "average",
    }
)
BEATS_CHANCE = dict(
    windows={"record_seconds": 20, "preprocess": True, "max_normalize": False},
    protocols=("within_subject",),
    tasks=("binary",),
    n_folds=4,
    max_folds=2,
    epochs=30,
    batch_size=64,
    lr=0.02,
    lr_steps={20: 0.005},
    threads=1,
)


def test_inputs_are_the_histn_windows_and_de(inputs):
    raw, de = inputs["raw"], inputs["de"]
    assert raw.x.shape == (4 * 36 * 20, 14, 128) and de.x.shape == (4 * 36 * 20, 14, 5)
    assert raw.meta.equals(de.meta)
    # The divisors of the raw records are kept (the live export's fixed factor); DE has none.
    assert raw.record_peaks.shape == (4 * 36, 14) and (raw.record_peaks > 0).all() and de.record_peaks is None
    # Each channel of each record divided by its maximum: the record's peak is exactly 1.
    record = raw.x[(raw.meta["subject"] == "S01").to_numpy() & (raw.meta["trial"] == 1).to_numpy()]
    np.testing.assert_allclose(np.abs(record).max(axis=(0, 2)), 1.0, rtol=1e-6)


def test_raw_windows_and_de_follow_the_histn_recipe():
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=2, stimulus_seconds=8, baseline_seconds=14))
    settings = WindowSettings(record_seconds=6.0, hop=0.5)
    out = cohort_windows([session], ("raw", "de"), settings)
    raw, de = out["raw"], out["de"]
    assert len(raw) == 2 * 11 and raw.meta["offset"].tolist()[:3] == [0.0, 0.5, 1.0]
    # By hand: last 6 s of trial 2's stimulus, z-scored with seconds 2-12 of its 14-s baseline, / max |x|.
    trial = session.trials.iloc[1]
    data, sf = session.eeg.get_data(), 128
    base = data[:, round((trial.baseline_onset + 2) * sf) : round((trial.baseline_onset + 12) * sf)]
    start = round((trial.stimulus_onset + trial.stimulus_duration - 6) * sf)
    z = (data[:, start : start + 6 * sf] - base.mean(axis=1, keepdims=True)) / base.std(axis=1, keepdims=True)
    scaled = z / np.abs(z).max(axis=1, keepdims=True)
    rows = np.flatnonzero(raw.meta["trial"].to_numpy() == 2)
    for row, offset in zip(rows, raw.meta["offset"].to_numpy()[rows], strict=True):
        first = round(offset * sf)
        np.testing.assert_allclose(raw.x[row], scaled[:, first : first + sf], rtol=1e-5, atol=1e-6)
        # DE of the z-scored (not max-scaled) window from SciPy's periodogram: 0.5 ln(2 pi e P_band).
        f, psd = welch(z[:, first : first + sf], fs=sf, nperseg=sf)
        power = [psd[:, (f >= lo) & (f < hi)].sum(axis=1) * (f[1] - f[0]) for lo, hi in DEFAULT_BANDS.values()]
        np.testing.assert_allclose(de.x[row], 0.5 * np.log(2 * np.pi * np.e * np.array(power).T), rtol=1e-4)


def test_window_inputs_reject_short_trials_and_missing_channels():
    session = make_session(0, SyntheticConfig(n_subjects=1, n_trials=2, stimulus_seconds=8, baseline_seconds=12))
    with pytest.raises(DataError, match=r"subject S01: trials \[1, 2\] have stimuli shorter than the 60.0 s record"):
        cohort_windows([session], ("raw",), WindowSettings())
    with pytest.raises(DataError, match=r"EEG channels \['Cz'\] are missing"):
        cohort_windows([session], ("raw",), WindowSettings(record_seconds=8, channels=("Cz", "F3")))
    with pytest.raises(DataError, match="baselines, shorter than the 20 s"):
        cohort_windows([session], ("raw",), WindowSettings(record_seconds=8, baseline_seconds=20))


def test_histn_and_dgcnn_beat_chance_on_binary_valence_and_arousal():
    cfg = run_config(models=(ModelSpec(name="histn"), ModelSpec(name="dgcnn")), **BEATS_CHANCE)
    inputs = model_inputs(make_cohort(WITH_ARTEFACTS), cfg.models, CLEANING)
    metrics, predictions = run_experiment(inputs, cfg)
    for model in ("histn", "dgcnn"):
        for target in ("valence", "arousal"):
            s = metrics[model][target]["binary"]["within_subject"]
            assert s["f1_weighted"] >= s["chance_f1_weighted"] + 0.08, (model, target, s["f1_weighted"])
            assert s["pooled"]["balanced_accuracy"] >= 0.65, (model, target, s["pooled"]["balanced_accuracy"])
            assert len(s["folds"]) == 4 * 2 and s["parameters"] > 0 and s["inference_windows_per_s"] > 0
    assert len(predictions) == 2 * 2 * sum(len(f.test) for f in _folds(inputs, "valence", cfg))


# HiSTN's comparison on one test fold per subject (about 9 trials) moved by up to 0.23 when the
# trial-level folds changed which trials are held out (0.588 vs 0.535 before, 0.456 vs 0.686 after,
# on arousal): two folds per subject give it twice the evidence (measured: valence 0.437 vs 0.393,
# arousal 0.543 vs 0.510). The mechanism itself is pinned by tests/graph_models/test_trainer_targets.py.
@pytest.mark.parametrize("model, epochs, folds", [("histn", 15, 2), ("dgcnn", 8, 1)])
def test_label_smoothing_raises_seq2hr_over_one_hot(inputs, model, epochs, folds):
    base = dict(FAST, models=(ModelSpec(name=model),), tasks=("five_class",), epochs=epochs, max_folds=folds)
    smooth, _ = run_experiment(inputs, run_config(label_mode="smoothing", **base))
    onehot, _ = run_experiment(inputs, run_config(label_mode="onehot", **base))
    for target in ("valence", "arousal"):
        a = smooth[model][target]["five_class"]["within_subject"]["seq2hr"]
        b = onehot[model][target]["five_class"]["within_subject"]["seq2hr"]
        assert a >= b + 0.03, (target, a, b)


def test_same_seed_gives_the_same_metrics(inputs):
    cfg = run_config(
        models=(ModelSpec(name="logreg_de"),), targets=("valence",), tasks=("five_class",), **dict(FAST, epochs=3)
    )
    first, p1 = run_experiment(inputs, cfg)
    second, p2 = run_experiment(inputs, cfg)
    assert _without_timings(first) == _without_timings(second)
    assert p1.equals(p2)


def test_folds_on_a_dask_cluster_give_the_serial_metrics(inputs):
    from distributed import Client, LocalCluster, get_task_stream

    cfg = run_config(
        models=(ModelSpec(name="dgcnn"),), targets=("arousal",), tasks=("binary",), **dict(FAST, epochs=2, max_folds=2)
    )
    serial, p1 = run_experiment(inputs, cfg)
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster, Client(cluster) as client, get_task_stream(client) as tasks:
        on_cluster, p2 = run_experiment(inputs, cfg.model_copy(update={"train": cfg.train.model_copy(update={"scheduler": cluster.scheduler_address})}))
    assert sum(task["key"].startswith("run_fold") for task in tasks.data) == 4 * 2  # every fold ran on the cluster
    assert _without_timings(on_cluster) == _without_timings(serial)
    assert p1.equals(p2)


def test_histn_blocks_and_loso_with_correction_finetuning_and_checkpoints(inputs, tmp_path):
    cfg = run_config(
        models=(ModelSpec(name="dgcnn"),),
        targets=("arousal",),
        tasks=("five_class",),
        protocols=("histn_blocks", "loso"),
        windows={"record_seconds": 20},
        epochs=2,
        max_folds=2,
        label_correction=True,
        finetune={"seconds": 5.0, "epochs": 2, "freeze": ("adjacency",)},
        checkpoint_dir=tmp_path,
        threads=1,
    )
    metrics, predictions = run_experiment(inputs, cfg)
    blocks = metrics["dgcnn"]["arousal"]["five_class"]["histn_blocks"]
    assert [f["name"] for f in blocks["folds"]] == ["S01/0", "S01/1", "S02/0", "S02/1", "S03/0", "S03/1", "S04/0", "S04/1"]
    loso = metrics["dgcnn"]["arousal"]["five_class"]["loso"]
    assert [f["name"] for f in loso["folds"]] == ["S01", "S02"]
    assert all(f["n_finetune"] == 36 * 5 and f["frozen"] == ["adjacency"] for f in loso["folds"])
    tested = predictions[predictions["protocol"] == "loso"]
    assert tested["offset"].min() >= 5.0 and len(tested) == 2 * 36 * 15
    assert {"seq2hr", "tri_p", "top2_accuracy", "chance_f1_weighted"} <= set(loso)

    # The saved fold model predicts what the experiment predicted for its test windows.
    model, meta = load_model(loso["folds"][0]["checkpoint"])
    assert meta["protocol"] == "loso" and meta["fold"] == "S01"
    rows = tested["fold"].to_numpy() == "S01"
    de = inputs["de"]
    test_rows = ((de.meta["subject"] == "S01") & (de.meta["offset"] >= 5.0)).to_numpy()
    np.testing.assert_array_equal(predict_proba(model, de.x[test_rows]).argmax(axis=1), tested["y_pred"].to_numpy()[rows])

    # Label correction: the training labels are each clip's mode over the training subjects.
    y = class_labels(de.meta["arousal"].to_numpy(), "five_class")
    fold = next(iter(protocol_folds("loso", de.meta, y, *fold_settings(cfg))))
    job = make_fold_job(de, y, 5, cfg.models[0], "arousal", "five_class", "loso", fold, cfg, cfg.evaluation.seeds[0])
    pool = np.concatenate([fold.train, fold.val])
    mode = corrected_labels(de.meta["subject"].to_numpy()[pool], de.meta["trial"].to_numpy()[pool], y[pool], 5)
    np.testing.assert_array_equal(job.y_train, mode[: len(fold.train)])
    assert not np.array_equal(job.y_train, y[fold.train]), "the correction changed nothing on this cohort"
    np.testing.assert_array_equal(job.y_val, y[fold.val])


def test_bad_model_lists_are_config_errors(inputs):
    with pytest.raises(ConfigError, match="lists a model twice"):
        run_experiment(inputs, RunConfig(models=(ModelSpec(), ModelSpec())))
    with pytest.raises(ConfigError, match="unknown model 'resnet'"):
        run_experiment(inputs, run_config(models=(ModelSpec(name="resnet"),)))
    with pytest.raises(ValueError, match="n_outputs follows the task"):
        ModelSpec(name="histn", hparams={"n_outputs": 3})
    with pytest.raises(ConfigError, match=r"models.0.size: unknown key; allowed keys here are \['hparams', 'name', 'permutations', 'protocols', 'tasks', 'windows'\]"):
        config_from_dict({"models": [{"name": "histn", "size": 3}]})


def test_train_command_writes_metrics(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(
        "source: {synthetic: {n_subjects: 2, n_trials: 4, stimulus_seconds: 8, baseline_seconds: 12}, via_files: false}\n"
        "models: [{name: logreg_de, windows: {record_seconds: 8}}]\n"
        "evaluation: {protocols: [within_subject], tasks: [binary], targets: [valence], n_folds: 2}\n"
        "train: {epochs: 1, threads: 1}\n"
    )
    result = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(metrics["logreg_de"]["valence"]["binary"]["within_subject"]) >= {"f1_weighted", "folds"}
    assert (tmp_path / "out" / "predictions.csv").exists()
    config.write_text("train: {epochs: 0}\n")
    bad = CliRunner().invoke(app, ["train", str(config)])
    assert bad.exit_code == 2 and "train.epochs" in bad.output


def _folds(inputs, target, cfg):
    y = class_labels(inputs["raw"].meta[target].to_numpy(), "binary")
    return list(protocol_folds("within_subject", inputs["raw"].meta, y, *fold_settings(cfg)))


def _without_timings(value):
    if isinstance(value, dict):
        drop = {"train_seconds", "train_seconds_per_fold", "inference_windows_per_s", "inference_seconds", "test_windows_per_s"}
        return {k: _without_timings(v) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value
