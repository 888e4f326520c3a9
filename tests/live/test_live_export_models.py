"""Regression models and models with ECG/EDA nodes in the live chain: export, calibration, live predictions.

One small synthetic cohort (that of ``tests/test_live_export.py``) is trained
once for the module, 2 epochs on one torch thread: HiSTN (raw windows) and
DGCNN with ECG and EDA nodes (differential entropy plus 4-s span features),
valence, five classes and regression.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import warnings
from pathlib import Path
from urllib.parse import urlencode

import mne
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import FeatureConfig
from biosig.errors import ConfigError, DataError
from biosig.evaluation.labels import ratings_from_targets
from biosig.features.eeg import band_power, differential_entropy
from biosig.features.peripheral import ECG_FEATURES, EDA_FEATURES
from biosig.features.peripheral_causal import detect_ecg_events_causal, detect_eda_events_causal
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from biosig.preprocess.windows import slice_windows
from graphs.models import build_model, predict
from graphs.training.trainer import load_checkpoint, predict_values, save_checkpoint
from graphs.training.windows_dataset import WindowSettings, session_peripheral
from streaming.api import LiveSession
from streaming.calibrate import StreamCalibrator, calibrate_checkpoints, calibrate_session, warmup_samples
from streaming.model_io import load_live_model
from streaming.online import OnlinePipeline
from streaming.replay import Replayer, load_source
from tests.helpers import EMOTIV
from tests.live.test_live_export import (
    COHORT,
    RATINGS,
    SFREQ,
    filtered,
    model_order,
    synthetic,
    train_and_export,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PERIPHERAL = {"ecg": 4, "eda": 3}
SPAN = 4.0  # train.windows.peripheral_seconds: three tiles in the cohort's 12-s baselines
RATES = {"eeg": SFREQ, "ecg": 256.0, "eda": 64.0}
TRAIN = {
    "models": [{"name": "histn"}, {"name": "dgcnn", "hparams": {"peripheral": PERIPHERAL}}],
    "protocols": ["loso"], "max_folds": 1, "targets": ["valence"], "tasks": ["five_class", "regression"],
    "windows": {
        "length": 1.0, "hop": 0.5, "record_seconds": 6.0, "baseline_seconds": 10.0, "preprocess": True,
        "peripheral_seconds": SPAN,
    },
    "epochs": 2, "batch_size": 32, "lr": 0.01, "lr_steps": {}, "threads": 1, "val_fraction": 0.25, "seed": 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """``biosig train CONFIG --export DIR`` run once: the folder of the live checkpoints."""
    return train_and_export(tmp_path_factory.mktemp("export-models"), TRAIN) / "live"


def signals_of(session) -> dict[str, np.ndarray]:
    """EEG ``(n, 14)`` V in model order, ECG ``(n,)`` V and EDA ``(n,)`` S of a session."""
    return {"eeg": model_order(session).T, "ecg": session.ecg.get_data()[0], "eda": session.eda.get_data()[0]}


def schedule(signals: dict[str, np.ndarray], t0: float, lag: float = 0.0, stop: float = np.inf, first: int = 0):
    """``(kind, samples, stamps)`` in 1/16-s chunks as they would arrive, peripheral before EEG at equal times.

    The ECG/EDA chunks arrive ``lag`` seconds after the EEG of the same instant
    and stop after ``stop`` s; the EEG starts at its sample ``first``.
    Samples are stamped ``t0 + i / rate`` (sample ``i`` of the session).
    """
    out = []
    for kind, data in signals.items():
        rate = RATES[kind]
        duration = len(data) / rate
        for k in range(int(np.ceil(duration * 16))):
            lo = max(int(round(k / 16 * rate)), first if kind == "eeg" else 0)
            hi = min(int(round((k + 1) / 16 * rate)), len(data))
            if hi <= lo or (kind != "eeg" and k / 16 >= stop):
                continue
            due = (k + 1) / 16 + (0.0 if kind == "eeg" else lag)
            out.append((due, kind == "eeg", kind, data[lo:hi], t0 + np.arange(lo, hi) / rate))
    out.sort(key=lambda item: item[:2])
    return [(kind, data, stamps) for _, _, kind, data, stamps in out]


def span_features(signals: dict[str, np.ndarray], starts: np.ndarray) -> np.ndarray:
    """ECG then EDA features ``(n, 7)`` of the ``SPAN`` spans from ``starts`` s, cut as offline; NaN before 0 s.

    The events are the offline causal mode's on the whole signal, each span using those confirmed by its end.
    """
    out = np.full((len(starts), 7), np.nan)
    column = 0
    kinds = (
        ("ecg", detect_ecg_events_causal, ecg_features_from_beats, ECG_FEATURES),
        ("eda", detect_eda_events_causal, eda_features_from_events, EDA_FEATURES),
    )
    for kind, detect, compute, names in kinds:
        rate = RATES[kind]
        ok = np.round(starts * rate) >= 0
        events = detect(signals[kind], rate)
        values = compute(events, starts[ok], starts[ok] + SPAN, events.detected).values
        out[ok, column : column + len(names)] = np.column_stack([values[name] for name in names])
        column += len(names)
    return out


def test_export_writes_regression_models_and_peripheral_nodes(exported):
    names = sorted(f"{m}-valence-{t}.pt" for m in ("histn", "dgcnn") for t in ("five_class", "regression"))
    assert sorted(p.name for p in exported.glob("*.pt")) == names
    for name in names:
        _, meta = load_checkpoint(exported / name)
        if name.endswith("regression.pt"):
            assert meta["task"] == "regression" and meta["rating_range"] == [1.0, 5.0] and "scale" not in meta
            assert meta["hparams"]["output"] == "regression" and meta["hparams"]["n_outputs"] == 1
            assert np.isfinite(meta["history"][meta["export"]["best_epoch"]]["val_loss"])
        else:
            assert meta["scale"] == RATINGS and "rating_range" not in meta
        if name.startswith("dgcnn"):
            nodes = {"ecg": list(ECG_FEATURES), "eda": list(EDA_FEATURES)}
            assert meta["peripheral"] == {"seconds": SPAN, "nodes": nodes}
            spec = load_live_model(exported / name, allow_uncalibrated=True).spec
            assert spec.peripheral_nodes == ("ecg", "eda") and spec.peripheral_seconds == SPAN
        else:
            assert "peripheral" not in meta


def test_regression_model_live_equals_the_model_offline_on_the_rating_scale(exported, tmp_path):
    source = exported / "histn-valence-regression.pt"
    session = synthetic(2, n_trials=1)  # a subject the model never saw, 20 s
    written, _ = calibrate_checkpoints([source], session, tmp_path, source="S03")
    live = load_live_model(written)
    spec, entry = live.spec, live.models[0]
    assert entry.rating_range == (1.0, 5.0)

    pipe = OnlinePipeline(live, max_lag=None)
    x = model_order(session).T
    stamps = 500.0 + np.arange(len(x)) / SFREQ
    results = [w for lo in range(0, len(x), 40) for w in pipe.process(x[lo : lo + 40], stamps[lo : lo + 40]).windows]
    predicted = np.array([r.predicted for r in results])
    assert predicted.sum() > 30

    # Offline: MNE's filters from a zero state, the calibration's normalisation, predict_values on [-1, 1].
    signal = mne.io.RawArray(filtered(x.T), mne.create_info(list(EMOTIV), SFREQ, "eeg"), verbose="error")
    windows = slice_windows(signal, 0.5 * np.arange(len(results)), 1.0, "S03")[predicted]
    z = (windows - spec.offset[None, :, None]) / spec.scale[None, :, None]
    expected = ratings_from_targets(predict_values(entry.model, z.astype(np.float32)), (1.0, 5.0))
    online = np.array([r.values["valence"] for r in results])[predicted]
    np.testing.assert_allclose(online, expected, atol=1e-5)
    assert expected.std() > 1e-4
    assert np.isnan([r.values["valence_confidence"] for r in results]).all()  # regression: no class probability

    state, meta = load_checkpoint(written[0])
    del meta["rating_range"]
    model = build_model("histn", **meta["hparams"])
    model.load_state_dict(state)
    bare = save_checkpoint(tmp_path / "bare" / "histn-valence-regression.pt", model, meta)
    with pytest.raises(ConfigError, match=re.escape(str(bare)) + r": a regression model .*'rating_range'"):
        load_live_model(bare)


def test_peripheral_rest_level_is_the_baseline_level_training_subtracts(exported):
    spec = load_live_model(exported / "dgcnn-valence-five_class.pt", allow_uncalibrated=True).spec
    session = synthetic(2, n_trials=1)  # baseline 2-14 s, stimulus 14-22 s
    signals = signals_of(session)
    calibration = calibrate_session(session, spec, source="S03")
    assert calibration.start == pytest.approx(2.0) and calibration.tiles == 3

    # By hand: the features of the 4-s tiles at 2, 6 and 10 s, averaged over the tiles that give them.
    tiles = span_features(signals, np.array([2.0, 6.0, 10.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature NaN in every tile stays NaN
        by_hand = np.nanmean(tiles, axis=0)
    level = np.concatenate([calibration.peripheral["ecg"], calibration.peripheral["eda"]])
    np.testing.assert_allclose(level, by_hand, rtol=1e-12, equal_nan=True)
    assert np.isfinite(level[:5]).all()  # heart rate, HRV and tonic EDA: the comparison is of numbers

    # Training's rows: each window's span features minus this same level.
    starts = np.array([15.0, 17.0, 19.0])
    windows = pd.DataFrame({"trial": 1, "t_start": starts})
    rows = session_peripheral(session, session.trials, windows, WindowSettings(length=1.0, peripheral_seconds=SPAN))
    stimulus = span_features(signals, starts + 1.0 - SPAN)
    levels = np.broadcast_to(level, rows.shape)
    np.testing.assert_allclose(stimulus - rows, levels, rtol=1e-5, atol=1e-4, equal_nan=True)

    with pytest.raises(DataError, match=r"short \(2-5 s\): 3 s of rest hold no 4-s tile"):
        calibrate_session(session, spec, start=2.0, seconds=3.0, source="short")
    without_eda = dataclasses.replace(synthetic(2, n_trials=1), eda=None)
    with pytest.raises(DataError, match="no-eda: the model has ECG/EDA nodes.*the recording has no EDA"):
        calibrate_session(without_eda, spec, source="no-eda")


def test_stream_calibration_measures_the_same_peripheral_level_and_waits_for_late_streams(exported):
    spec = load_live_model(exported / "dgcnn-valence-five_class.pt", allow_uncalibrated=True).spec
    session = synthetic(2, n_trials=1)
    signals = signals_of(session)
    warm = warmup_samples(spec)
    first = warm % 2  # the rest then starts on an EDA sample (64 Hz): no rounding tie between the two cuts
    begin = (first + warm) / SFREQ
    from_file = calibrate_session(session, spec, start=begin, seconds=8.0, source="file")
    assert from_file.start == pytest.approx(begin) and from_file.tiles == 2

    t0 = 300.0
    for lag, stop in ((0.0, np.inf), (0.5, np.inf), (0.0, begin + 7.0)):
        calibrator = StreamCalibrator(spec, 8.0, peripheral={"ecg": 256.0, "eda": 64.0})
        events, done_at = [], None  # done_at: stamp of the last EEG sample the calibration took
        for kind, data, stamps in schedule(signals, t0, lag=lag, stop=stop, first=first):
            if kind != "eeg":
                calibrator.feed_peripheral(kind, data, stamps)
                continue
            taken, new = calibrator.feed(data, stamps)
            events += new
            done_at = stamps[taken - 1] if taken else done_at
            if calibrator.result is not None:
                break
        result = calibrator.result
        assert result is not None and [e.kind for e in events] == ["calibrating", "calibrated"]
        rest_end = t0 + begin + 8.0 - 1.0 / SFREQ  # stamp of the last rest sample
        np.testing.assert_allclose(result.stats.mean, from_file.stats.mean, atol=1e-9 * from_file.stats.std.max())
        np.testing.assert_allclose(result.stats.std, from_file.stats.std, rtol=1e-9)
        if stop == np.inf:
            # Without a lag it completes with the rest; 0.5 s late streams are waited for (EEG samples consumed).
            assert done_at == pytest.approx(rest_end + lag, abs=1.5 / 16)
            for kind in ("ecg", "eda"):
                got, expected = result.peripheral[kind], from_file.peripheral[kind]
                np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)
        else:
            # The peripheral streams stop 1 s before the rest ends: after the 1-s wait, only the first tile counts.
            assert done_at == pytest.approx(rest_end + 1.0, abs=1.5 / 16)
            expected = span_features(signals, np.array([begin]))[0]
            got = np.concatenate([result.peripheral["ecg"], result.peripheral["eda"]])
            np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)
        assert events[-1].detail["peripheral_tiles"] == 2

    with pytest.raises(ConfigError, match=r"give the EDA stream \(--eda\)"):
        StreamCalibrator(spec, 8.0, peripheral={"ecg": 256.0})
    with pytest.raises(ConfigError, match="--calibrate 3: 3 s of rest hold no 4-s tile"):
        StreamCalibrator(spec, 3.0, peripheral={"ecg": 256.0, "eda": 64.0})


def test_peripheral_model_live_equals_the_model_on_offline_inputs(exported, tmp_path):
    source = exported / "dgcnn-valence-five_class.pt"
    session = synthetic(2, n_trials=1)
    written, calibration = calibrate_checkpoints([source], session, tmp_path, source="S03")
    live = load_live_model(written)
    spec, entry = live.spec, live.models[0]
    level = np.concatenate([spec.peripheral_offset["ecg"], spec.peripheral_offset["eda"]])
    np.testing.assert_array_equal(level, np.concatenate([calibration.peripheral["ecg"], calibration.peripheral["eda"]]))

    signals = signals_of(session)
    pipe = OnlinePipeline(live, max_lag=None, peripheral={"ecg": 256.0, "eda": 64.0})
    assert pipe.peripheral_seconds == SPAN  # the model's span
    results = []
    for kind, data, stamps in schedule(signals, 700.0):
        if kind == "eeg":
            results += pipe.process(data, stamps).windows
        else:
            pipe.add_peripheral(kind, data, stamps)
    predicted = np.array([r.predicted for r in results])
    assert predicted.sum() > 30

    # Offline: filtered windows normalised by the calibration, DE; span features cut as windows_dataset cuts
    # them ([t_end - 4 s, t_end), t_end = t_start + 1 s), minus the calibration's level.
    x = signals["eeg"]
    signal = mne.io.RawArray(filtered(x.T), mne.create_info(list(EMOTIV), SFREQ, "eeg"), verbose="error")
    t_start = 0.5 * np.arange(len(results))
    windows = slice_windows(signal, t_start, 1.0, "S03")[predicted]
    z = (windows - spec.offset[None, :, None]) / spec.scale[None, :, None]
    de = differential_entropy(band_power(z, SFREQ, dict(FeatureConfig().bands)))
    columns = span_features(signals, t_start + 1.0 - SPAN)[predicted]
    offline = predict(entry.model, (de, columns - level), RATINGS)
    online = np.array([[r.values["valence"], r.values["valence_confidence"]] for r in results])[predicted]
    np.testing.assert_allclose(online[:, 0], offline.expected, atol=1e-5)
    np.testing.assert_allclose(online[:, 1], offline.probabilities.max(axis=1), atol=1e-5)
    finite = np.isfinite(columns).all(axis=1)
    assert finite.sum() > 10
    # The level matters: the features as measured give other predictions.
    unsubtracted = predict(entry.model, (de, columns), RATINGS).expected
    assert np.abs(unsubtracted - offline.expected)[finite].max() > 1e-4

    with pytest.raises(ConfigError, match=r"peripheral node 'ecg' of 4 features.*--ecg"):
        OnlinePipeline(live)
    with pytest.raises(ConfigError, match=r"features span 4 s .*asked for 10 s"):
        OnlinePipeline(live, peripheral={"ecg": 256.0, "eda": 64.0}, peripheral_seconds=10.0)
    session_without = LiveSession(written[0], "name=biosig-nothing-here", ecg="name=biosig-nothing-ecg", outlet=False)
    with pytest.raises(ConfigError, match=r"has EDA nodes; give the EDA stream \(--eda QUERY"):
        session_without.start()  # refused before any stream is resolved
    state, meta = load_checkpoint(written[0])
    del meta["normalization"]["peripheral_offset"]
    model = build_model("dgcnn", **meta["hparams"])
    model.load_state_dict(state)
    half = save_checkpoint(tmp_path / "half" / source.name, model, meta)
    with pytest.raises(ConfigError, match="the model needs a calibration"):
        load_live_model(half)


def test_cli_chain_for_a_peripheral_dgcnn(exported, tmp_path):
    checkpoint = exported / "dgcnn-valence-five_class.pt"
    rest = "synthetic:S03?" + urlencode({**COHORT, "n_subjects": 3, "n_trials": 1})
    runner = CliRunner()
    calibrated = tmp_path / "calibrated"
    result = runner.invoke(app, ["calibrate", str(checkpoint), "--from", rest, "--out", str(calibrated)])
    assert result.exit_code == 0, result.output
    assert "ECG/EDA rest level over 3 tiles: ecg:hr_bpm=" in result.output
    _, meta = load_checkpoint(calibrated / checkpoint.name)
    assert meta["normalization"]["calibration"]["peripheral_tiles"] == 3
    assert set(meta["normalization"]["peripheral_offset"]) == {"ecg", "eda"}

    refused = runner.invoke(app, ["stream", "--model", str(calibrated / checkpoint.name), "--eeg", "name=none"])
    assert refused.exit_code == 2 and "give the ECG/EDA stream (--ecg QUERY --eda QUERY" in refused.output

    player = Replayer(load_source(rest), speed=4.0, loop=True, prefix="biosig-chain-p")
    thread = threading.Thread(target=player.run, daemon=True)
    thread.start()
    streams = [a for kind in ("eeg", "ecg", "eda") for a in (f"--{kind}", f"name=biosig-chain-p-{kind}")]
    log = tmp_path / "predictions.csv"
    try:
        calibrated_run = runner.invoke(app, [
            "stream", "--model", str(calibrated / checkpoint.name), *streams, "--name", "biosig-affect-chain-p",
            "--duration", "3", "--quiet", "--log", str(log), "--resolve-timeout", "3",
        ])  # fmt: skip
        from_stream = runner.invoke(app, [
            "stream", "--model", str(checkpoint), *streams, "--calibrate", "4", "--name", "biosig-affect-chain-p2",
            "--duration", "3.5", "--quiet", "--resolve-timeout", "3",
        ])  # fmt: skip
    finally:
        player.stop()
        thread.join(timeout=5.0)
    assert calibrated_run.exit_code == 0, calibrated_run.output
    good = pd.read_csv(log).query("quality == 1.0")
    assert len(good) >= 5 and good["valence"].between(1.0, 5.0).all()
    assert good["valence_confidence"].between(0.2, 1.0).all()
    assert from_stream.exit_code == 0, from_stream.output
    assert re.search(r"calibrated\s+on\s+4\s+s\s+of\s+rest;\s+ECG/EDA\s+rest\s+level\s+over\s+1\s+tile\b", from_stream.output), (
        from_stream.output
    )
