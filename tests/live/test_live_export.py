"""From training to live: ``biosig train --export``, calibration from a file and from the stream, ``biosig stream``.

One small synthetic cohort (2 subjects, 4 trials, learnable effects, no
artefacts) is trained once for the module, 2 epochs on one torch thread:
HiSTN (raw windows) and DGCNN (differential entropy), valence and arousal,
five classes, with a causal low-pass and the average reference. A low-pass
alone warms up in a few samples, so the live tests need not wait seconds
for the filter.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from pathlib import Path
from urllib.parse import urlencode

import mne
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from typer.testing import CliRunner

from biosig.cli import app
from biosig.config import FeatureConfig, FilterConfig, PreprocessConfig
from tests.run_configs import run_config, sections
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.errors import ConfigError
from biosig.features.eeg import DEFAULT_BANDS, band_power, differential_entropy
from biosig.preprocess.eeg import apply_filters
from biosig.preprocess.windows import slice_windows
from biosig.session import Session, empty_trials
from graphs.models import build_model, predict
from graphs.training.trainer import load_checkpoint, save_checkpoint
from graphs.training.windows_dataset import WindowSet, WindowSettings
from streaming.api import LiveSession
from streaming.calibrate import StreamCalibrator, calibrate_checkpoints, calibrate_session, warmup_samples
from streaming.export import check_exportable
from streaming.model_io import LiveModel, load_live_model
from streaming.online import OnlinePipeline
from streaming.replay import Replayer, load_source
from tests.helpers import EMOTIV, emotiv_raw
from tests.live.test_stream_parity import open_inlet, pull_all

pytestmark = pytest.mark.usefixtures("one_torch_thread")

COHORT = {
    "n_subjects": 2, "n_trials": 4, "stimulus_seconds": 8.0, "baseline_seconds": 12.0, "valence_effect": 3.0,
    "arousal_effect": 3.0, "atypical_subject_probability": 0.0, "bad_channel_probability": 0.0, "blinks": False,
    "line_noise": False, "drifts": False,
}  # fmt: skip
LOW_PASS = {"method": "iir", "causal": True, "line_freq": None, "l_freq": None, "h_freq": 40.0}
TRAIN = {
    "models": [{"name": "histn"}, {"name": "dgcnn"}], "protocols": ["loso"], "max_folds": 1,
    "targets": ["valence", "arousal"], "tasks": ["five_class"],
    "windows": {"length": 1.0, "hop": 0.5, "record_seconds": 6.0, "baseline_seconds": 10.0, "preprocess": True},
    "epochs": 2, "batch_size": 32, "lr": 0.01, "lr_steps": {}, "threads": 1, "val_fraction": 0.25, "seed": 0,
}  # fmt: skip
RATINGS = [1.0, 2.0, 3.0, 4.0, 5.0]
SFREQ = 128.0


def synthetic(index: int, **overrides: float) -> Session:
    """Subject ``index`` (0-based) of the cohort's generator, with other trial settings if given."""
    config = {**COHORT, **overrides, "n_subjects": max(COHORT["n_subjects"], index + 1)}
    return make_session(index, SyntheticConfig(**config))


def model_order(session: Session) -> np.ndarray:
    """The session's EEG ``(14, n_times)`` in volts, channels in the models' (Emotiv) order."""
    names = session.eeg.ch_names
    return session.eeg.get_data()[[names.index(ch) for ch in EMOTIV]]


def filtered(data: np.ndarray) -> np.ndarray:
    """MNE's causal low-pass and average reference of Emotiv ``data`` ``(14, n_times)`` volts, from a zero state."""
    raw = mne.io.RawArray(data, mne.create_info(list(EMOTIV), SFREQ, "eeg"), verbose="error")
    apply_filters(raw, FilterConfig(**LOW_PASS))
    raw.set_eeg_reference("average", projection=False, verbose="error")
    return raw.get_data()


def train_and_export(root: Path, train: dict) -> Path:
    """``biosig train CONFIG --export root/live`` on :data:`COHORT` with the low-pass and average reference; ``root``."""
    config = {
        "name": root.name,
        "source": {"kind": "synthetic", "synthetic": COHORT, "via_files": False},
        "preprocess": {"filter": LOW_PASS, "bad_channels": {"enabled": False}, "reference": "average"},
        **sections(train),
    }
    path = root / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    before = torch.get_num_threads()
    result = CliRunner().invoke(
        app, ["train", str(path), "--out", str(root / "report"), "--export", str(root / "live")]
    )
    torch.set_num_threads(before)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """``biosig train CONFIG --export DIR`` run once: the folder with ``report/`` and ``live/``."""
    return train_and_export(tmp_path_factory.mktemp("export"), TRAIN)


def test_export_writes_every_live_key_and_refuses_to_stream_uncalibrated(exported):
    live = exported / "live"
    names = sorted(f"{m}-{t}-five_class.pt" for m in ("histn", "dgcnn") for t in ("valence", "arousal"))
    assert sorted(p.name for p in live.glob("*.pt")) == names
    run = json.loads((exported / "report" / "run_info.json").read_text())
    assert sorted(Path(p).name for p in run["exported"]) == names
    for name in names:
        _, meta = load_checkpoint(live / name)
        assert meta["model"] == name.split("-")[0] and meta["target"] == name.split("-")[1]
        assert meta["task"] == "five_class" and meta["scale"] == RATINGS
        assert meta["channels"] == list(EMOTIV) and meta["sfreq"] == SFREQ
        assert meta["window"] == {"length": 1.0, "hop": 0.5} and set(meta["features"]["bands"]) == set(DEFAULT_BANDS)
        assert meta["preprocess"] == {"filter": FilterConfig(**LOW_PASS).model_dump(mode="json"), "reference": "average"}
        assert meta["normalization"]["calibrate"] is True and "offset" not in meta["normalization"]
        # 2 subjects x 4 trials x 11 windows (6-s records, 1-s windows every 0.5 s); 2 whole trials validate.
        assert meta["export"]["n_train"] == 66 and meta["export"]["n_val"] == 22
        assert len(meta["export"]["val_trials"]) == 2
        with pytest.raises(ConfigError, match=rf"{name}: the model needs a calibration.*biosig calibrate.*--calibrate"):
            load_live_model(live / name)
        assert load_live_model(live / name, allow_uncalibrated=True).spec.needs_calibration
    assert load_checkpoint(live / "dgcnn-valence-five_class.pt")[1]["normalization"]["max_scale"] == [1.0] * 14


def test_max_scale_is_the_harmonic_mean_of_the_training_records_peaks(exported):
    _, meta = load_checkpoint(exported / "live" / "histn-valence-five_class.pt")
    # By hand: each trial's last 6 s of stimulus, z-scored with the middle 10 s of its 12-s baseline.
    inverse, count = np.zeros(14), 0
    for k in range(2):
        session = synthetic(k)
        x = filtered(model_order(session))
        for trial in session.trials.itertuples():
            b0 = trial.baseline_onset + 1.0
            base = x[:, round(b0 * SFREQ) : round((b0 + 10.0) * SFREQ)]
            s0 = round((trial.stimulus_onset + trial.stimulus_duration - 6.0) * SFREQ)
            z = (x[:, s0 : s0 + 6 * 128] - base.mean(axis=1, keepdims=True)) / base.std(axis=1, keepdims=True)
            inverse += 1.0 / np.abs(z).max(axis=1)
            count += 1
    np.testing.assert_allclose(meta["normalization"]["max_scale"], count / inverse, rtol=1e-6)


@pytest.mark.parametrize("name", ["histn-valence", "dgcnn-arousal"])
def test_calibrated_live_predictions_equal_the_model_offline(exported, tmp_path, name):
    source = exported / "live" / f"{name}-five_class.pt"
    session = synthetic(2)  # a subject the models never saw
    written, calibration = calibrate_checkpoints([source], session, tmp_path, source="S03")
    live = load_live_model(written)
    spec, entry = live.spec, live.models[0]

    # The default rest is the first trial's 12-s baseline; its statistics after MNE's filters from a zero
    # state one warm-up before it, times the checkpoint's max factor, are the offset and scale.
    first = session.trials.iloc[0]
    assert calibration.start == pytest.approx(first.baseline_onset) and calibration.seconds == pytest.approx(12.0)
    lo, warm = round(first.baseline_onset * SFREQ), warmup_samples(spec)
    rest = filtered(model_order(session)[:, lo - warm : lo + 12 * 128])[:, warm:]
    max_scale = np.asarray(load_checkpoint(source)[1]["normalization"]["max_scale"])
    np.testing.assert_allclose(spec.offset, rest.mean(axis=1), rtol=1e-9, atol=1e-9 * rest.std())
    np.testing.assert_allclose(spec.scale, rest.std(axis=1) * max_scale, rtol=1e-9)
    assert source.read_bytes() != written[0].read_bytes()

    pipe = OnlinePipeline(live, max_lag=None)
    x = model_order(session).T
    stamps = 1000.0 + np.arange(len(x)) / SFREQ
    results = [w for lo in range(0, len(x), 40) for w in pipe.process(x[lo : lo + 40], stamps[lo : lo + 40]).windows]

    signal = mne.io.RawArray(filtered(x.T), mne.create_info(list(EMOTIV), SFREQ, "eeg"), verbose="error")
    n = len(results)
    assert n == int((x.shape[0] / SFREQ - 1.0) / 0.5 + 1e-9) + 1
    windows = slice_windows(signal, 0.5 * np.arange(n), 1.0, "S03")
    predicted = np.array([r.predicted for r in results])
    assert predicted.sum() > 150 and predicted[-100:].all()
    z = (windows[predicted] - spec.offset[None, :, None]) / spec.scale[None, :, None]
    inputs = z if entry.input == "raw" else differential_entropy(band_power(z, SFREQ, dict(FeatureConfig().bands)))
    offline = predict(entry.model, torch.tensor(inputs, dtype=torch.float32), RATINGS)
    target = entry.targets[0]
    online = np.array([r.values[target] for r in results])[predicted]
    confidence = np.array([r.values[f"{target}_confidence"] for r in results])[predicted]
    np.testing.assert_allclose(online, offline.expected, atol=1e-5)
    np.testing.assert_allclose(confidence, offline.probabilities.max(axis=1), atol=1e-5)
    assert offline.expected.std() > 1e-4
    if entry.input == "raw":
        # The fixed max factor keeps live inputs at the training inputs' scale (those peak at 1 per record).
        assert 0.2 < np.percentile(np.abs(z), 99) < 2.0


def test_stream_calibration_over_lsl_equals_file_calibration_of_the_same_samples(exported, tmp_path):
    source = exported / "live" / "histn-valence-five_class.pt"
    session = synthetic(2, n_trials=1, baseline_seconds=4.0, stimulus_seconds=4.0)  # 12 s
    player = Replayer(session, speed=6.0, prefix="biosig-calib")
    live = LiveSession(
        source, "name=biosig-calib-eeg", calibrate=2.0, max_lag=None, queue_size=10_000,
        outlet_name="biosig-affect-calib", source_id="calib", resolve_timeout=3.0, buffer_seconds=30.0,
    )  # fmt: skip
    assert live.model.spec.needs_calibration
    results = []
    with live:
        markers = open_inlet("biosig-affect-calib-markers")
        assert player.wait_for_consumers(5.0)
        player.run()
        while (result := live.get(timeout=1.0)) is not None:  # drained: the replay has ended
            results.append(result)
        marks, _ = pull_all(markers, 2, numeric=False)
    spec = live.model.spec
    assert not spec.needs_calibration
    sent = [json.loads(m[0]) for m in marks]
    assert [m["event"] for m in sent[:2]] == ["calibrating", "calibrated"] and sent[1]["seconds"] == 2.0

    # The samples that went over the wire (float32 microvolts), calibrated as a file from the sample
    # after the warm-up: the stream used the first warm-up + 2 s.
    wire = (session.eeg.get_data() * 1e6).astype(np.float32).astype(np.float64) * 1e-6
    as_file = dataclasses.replace(session, eeg=mne.io.RawArray(wire, session.eeg.info, verbose="error"))
    warm = warmup_samples(spec)
    written, _ = calibrate_checkpoints([source], as_file, tmp_path, start=warm / SFREQ, seconds=2.0, source="wire")
    from_file = load_live_model(written).spec
    np.testing.assert_allclose(spec.scale, from_file.scale, rtol=1e-6)
    np.testing.assert_allclose((spec.offset - from_file.offset) / from_file.scale, 0.0, atol=1e-6)

    # Predictions start after the rest, finite once the restarted filters warmed up.
    t0 = results[0].t_first - (warm + 256) / SFREQ  # the first window starts at the sample after the rest
    calibrated_at = next(e.time for e in live.events if e.kind == "calibrated")
    assert calibrated_at - t0 == pytest.approx((warm + 255) / SFREQ, abs=1e-3)
    good = [r for r in results if r.predicted]
    assert len(good) > 10 and all(np.isfinite(r.values["valence"]) for r in good)


def test_stream_calibration_restarts_on_a_gap_and_on_a_flat_channel(exported):
    spec = load_live_model(exported / "live" / "histn-valence-five_class.pt", allow_uncalibrated=True).spec
    x = emotiv_raw(seconds=6.0, seed=5).get_data().T
    t = 50.0 + np.arange(len(x)) / SFREQ
    t[100:] += 1.0  # one second lost after sample 100

    calibrator = StreamCalibrator(spec, 1.0)
    events = []
    for lo in range(0, len(x), 37):
        used, new = calibrator.feed(x[lo : lo + 37], t[lo : lo + 37])
        events += new
        if calibrator.result is not None:
            break
    assert [e.kind for e in events] == ["calibrating", "calibrating", "calibrated"]
    assert events[1].detail["reason"] == "stamps jump by +1.008 s" and events[1].time == t[100]
    need = warmup_samples(spec) + 128
    assert lo + used == 100 + need  # everything after the rest goes to the pipeline
    # Independent reference: MNE's filters over the samples after the gap.
    rest = filtered(x[100 : 100 + need].T)[:, warmup_samples(spec) :]
    np.testing.assert_allclose(calibrator.result.stats.mean, rest.mean(axis=1), atol=1e-9 * rest.std())
    np.testing.assert_allclose(calibrator.result.stats.std, rest.std(axis=1), rtol=1e-9)

    flat = x.copy()
    flat[:, EMOTIV.index("FC5")] = 4e-6
    calibrator = StreamCalibrator(spec, 1.0)
    _, events = calibrator.feed(flat[:need], 50.0 + np.arange(need) / SFREQ)
    assert [e.kind for e in events] == ["calibrating", "calibrating"] and calibrator.result is None
    assert "['FC5'] are flat" in events[1].detail["reason"]


def test_calibration_sees_what_the_live_pipeline_feeds_the_model_from_a_faster_stream(exported):
    spec = load_live_model(exported / "live" / "histn-valence-five_class.pt", allow_uncalibrated=True).spec
    spec = spec.with_hop(spec.window.length)  # windows that tile the stream
    raw = emotiv_raw(seconds=8.0, sfreq=256.0, seed=7)  # a 256-Hz amplifier, a 128-Hz model
    calibration = calibrate_session(Session("S99", raw, empty_trials()), spec, start=0.0, seconds=8.0, source="amp")
    warm = warmup_samples(spec, 256.0)
    assert calibration.start == pytest.approx(warm / SFREQ) and calibration.stats.samples == 8 * 128 - warm

    pipe = OnlinePipeline(LiveModel(spec, []), max_lag=None, keep_signals=True, stream_sfreq=256.0, interpolate=False)
    x, stamps = raw.get_data().T, np.arange(raw.n_times) / 256.0
    windows = [w for lo in range(0, len(x), 50) for w in pipe.process(x[lo : lo + 50], stamps[lo : lo + 50]).windows]
    fed = np.concatenate([w.signal for w in windows], axis=1)[:, warm:]  # filtered, resampled, re-referenced
    assert fed.shape[1] == calibration.stats.samples
    np.testing.assert_allclose(calibration.stats.mean, fed.mean(axis=1), atol=1e-9 * fed.std())
    np.testing.assert_allclose(calibration.stats.std, fed.std(axis=1), rtol=1e-9)


def test_calibration_refuses_fixed_normalisations_and_overwriting_its_input(exported, tmp_path):
    source = exported / "live" / "histn-valence-five_class.pt"
    session = synthetic(0)
    with pytest.raises(ConfigError, match="would overwrite"):
        calibrate_checkpoints([source], session, source.parent)
    state, meta = load_checkpoint(source)
    meta["normalization"] = {"offset": [0.0] * 14, "scale": [1e-5] * 14}
    model = build_model("histn", **meta["hparams"])
    model.load_state_dict(state)
    fixed = save_checkpoint(tmp_path / "fixed.pt", model, meta)
    with pytest.raises(ConfigError, match="fixed.pt: the normalisation is fixed"):
        calibrate_checkpoints([fixed], session, tmp_path / "out")
    spec = load_live_model(fixed).spec
    with pytest.raises(ConfigError, match="drop --calibrate"):
        StreamCalibrator(spec, 1.0)


def test_export_refuses_what_the_live_pipeline_cannot_run():
    data = WindowSet(
        np.zeros((1, 14, 128), np.float32), pd.DataFrame({"subject": ["S01"], "trial": [1]}), ("channel", "time"),
        EMOTIV, SFREQ, WindowSettings(),
    )  # fmt: skip
    windows = {"preprocess": True}
    topomap = run_config(models=[{"name": "topomap_cnn"}], windows=windows)
    with pytest.raises(ConfigError, match="topomap_cnn takes topomap inputs"):
        check_exportable(topomap, topomap.models, {"raw": data})
    histn = run_config(models=[{"name": "histn"}], windows=windows)
    with pytest.raises(ConfigError, match="filters causally with IIR"):
        check_exportable(histn, histn.models, {"raw": data})  # MNE's default: zero-phase FIR
    mastoids = histn.model_copy(update={"preprocess": PreprocessConfig(filter=FilterConfig(**LOW_PASS), reference=("M1", "M2"))})
    with pytest.raises(ConfigError, match=r"preprocess.reference: channels \['M1', 'M2'\]"):
        check_exportable(mastoids, mastoids.models, {"raw": data})
    dominance = run_config(models=[{"name": "histn"}], targets=("dominance",))
    with pytest.raises(ConfigError, match="writes models of"):
        check_exportable(dominance, dominance.models, {"raw": data})


def test_cli_chain_train_export_calibrate_stream(exported, tmp_path):
    live = exported / "live"
    checkpoints = [live / "histn-valence-five_class.pt", live / "histn-arousal-five_class.pt"]
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in checkpoints]
    rest = "synthetic:S03?" + urlencode({**COHORT, "n_subjects": 3, "n_trials": 1})
    runner = CliRunner()
    calibrated = tmp_path / "calibrated"
    result = runner.invoke(app, ["calibrate", *map(str, checkpoints), "--from", rest, "--out", str(calibrated)])
    assert result.exit_code == 0, result.output
    assert "12 s from 2 s" in result.output and result.output.count("written") == 2
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in checkpoints] == digests  # inputs untouched

    refused = runner.invoke(app, ["stream", "--model", str(checkpoints[0]), "--eeg", "name=none"])
    assert refused.exit_code == 2
    assert f"{checkpoints[0]}: the model needs a calibration" in refused.output and "biosig calibrate" in refused.output

    player = Replayer(load_source(rest), speed=4.0, loop=True, prefix="biosig-chain")
    thread = threading.Thread(target=player.run, daemon=True)
    thread.start()
    log = tmp_path / "predictions.csv"
    try:
        result = runner.invoke(app, [
            "stream", *(a for p in checkpoints for a in ("--model", str(calibrated / p.name))),
            "--eeg", "name=biosig-chain-eeg", "--name", "biosig-affect-chain", "--duration", "3", "--quiet",
            "--log", str(log), "--resolve-timeout", "3",
        ])  # fmt: skip
    finally:
        player.stop()
        thread.join(timeout=5.0)
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(log)
    good = rows[rows["quality"] == 1.0]
    assert len(good) >= 5
    for target in ("valence", "arousal"):
        assert good[target].between(1.0, 5.0).all()


def test_cli_calibrate_fits_the_blink_ica_and_cleans_the_rest_with_it(exported, tmp_path):
    from streaming.spatial import load_ica

    checkpoint = exported / "live" / "histn-valence-five_class.pt"
    # A longer recording with blinks, so that FastICA has something to separate.
    rest = "synthetic:S03?" + urlencode({**COHORT, "n_subjects": 3, "n_trials": 3, "blinks": True})
    runner = CliRunner()
    ica_path = tmp_path / "rest-ica.fif"
    result = runner.invoke(app, [
        "calibrate", str(checkpoint), "--from", rest, "--out", str(tmp_path / "with"), "--fit-ica", str(ica_path),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    ica = load_ica(ica_path)
    assert ica.ch_names == list(load_live_model(tmp_path / "with" / checkpoint.name).spec.channels)
    assert ica.exclude, "no blink component found on a recording with blinks"
    plain = runner.invoke(app, ["calibrate", str(checkpoint), "--from", rest, "--out", str(tmp_path / "without")])
    assert plain.exit_code == 0, plain.output
    # The rest went through the ICA: the frontal channels' statistics differ from the uncleaned calibration.
    with_ica = load_live_model(tmp_path / "with" / checkpoint.name).spec
    without = load_live_model(tmp_path / "without" / checkpoint.name).spec
    assert not np.allclose(with_ica.scale, without.scale)
    both = runner.invoke(app, [
        "calibrate", str(checkpoint), "--from", rest, "--out", str(tmp_path / "x"), "--ica", str(ica_path),
        "--fit-ica", str(ica_path),
    ])  # fmt: skip
    assert both.exit_code == 2 and "not both" in both.output
