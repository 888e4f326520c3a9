"""TorchEEG-comparable mode of ``bench_cohort.py`` (``--torcheeg``): ours with and without ECG against the floor.

Workload: 4 subjects of the synthetic cohort (18 trials, 61-s baselines,
``--stimulus-seconds`` clips; ``--quick``: 4 trials of 20 s), written as a
DREAMER.mat-structured file by :func:`biosig.datasets.writers.write_dreamer_mat`,
so the ECG is the cohort's own, with heartbeats. Settings as TorchEEG's
DREAMER recipe: 1-s windows without overlap over each clip, DE in 4 bands
(theta 4-8, alpha 8-14, beta 14-31, gamma 31-45 Hz), baseline removal by
subtracting the baseline windows' mean.

Printed side by side (windows/s over the clips' windows):

* ours, EEG + ECG features: :func:`biosig.cohort.process_cohort`, 1 worker,
  fresh cache (read, preprocess, features, cache write);
* ours, EEG only (``features.peripheral: false``);
* the floor: one ``scipy.io.loadmat`` of the file and a vectorised DE
  (numpy rFFT band power, DE = 0.5 ln(2 pi e P)) with baseline removal,
  no filtering;

with the ratios (goals: with ECG >= 0.5 x EEG-only; EEG-only within 3x of
the floor), then a per-subject profile of our EEG + ECG path (subject 1)
as shares of its wall time. The load average is printed with every figure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import scipy.io

from biosig.cache import FeatureCache, entry_key
from biosig.cohort import CallableSource, file_identity, process_cohort
from biosig.config import RunConfig
from biosig.datasets.dreamer import load_dreamer
from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.datasets.writers import write_dreamer_mat
from biosig.executor import Executor
from biosig.features.extract import eeg_features, peripheral_features, subtract_baseline
from biosig.features.peripheral_events import detect_session_events
from biosig.pipeline import SessionResult
from biosig.preprocess import eeg as pre
from biosig.preprocess.windows import slice_windows, window_table
from biosig.session import Session

BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 14.0), "beta": (14.0, 31.0), "gamma": (31.0, 45.0)}
N_SUBJECTS = 4


def _load(path: Path, number: int) -> Session:
    return next(iter(load_dreamer(path, subjects=[number])))


def _config(peripheral: bool) -> RunConfig:
    return RunConfig.model_validate(
        {"windows": {"length": 1.0, "hop": 1.0}, "features": {"bands": BANDS, "peripheral": peripheral}}
    )


def _load_avg() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def floor_windows_per_s(path: Path) -> tuple[float, int]:
    """One loadmat + vectorised DE with baseline removal; (windows/s, windows)."""
    start = time.perf_counter()
    m = scipy.io.loadmat(path)["DREAMER"][0, 0]
    sfreq = float(m["EEG_SamplingRate"][0, 0])
    n = int(sfreq)
    freqs = np.fft.rfftfreq(n, 1.0 / sfreq)
    masks = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in BANDS.values()]).astype(float)
    count = 0
    for cell in m["Data"].reshape(-1, order="F"):
        eeg = cell[0, 0]["EEG"][0, 0]
        for base, stim in zip(eeg["baseline"][:, 0], eeg["stimuli"][:, 0]):
            de = [_de(x, n, masks) for x in (base, stim)]
            count += (de[1] - de[0].mean(axis=0)).shape[0]
    return count / (time.perf_counter() - start), count


def _de(segment: np.ndarray, n: int, masks: np.ndarray) -> np.ndarray:
    """DE ``(n_windows, n_channels, n_bands)`` of ``(n_samples, n_channels)`` in 1-s windows."""
    k = segment.shape[0] // n
    windows = segment[: k * n].reshape(k, n, -1)
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2 / n
    return 0.5 * np.log(2 * np.pi * np.e * np.einsum("wfc,bf->wcb", power, masks) + 1e-30)


def ours_windows_per_s(sources, config: RunConfig, cache: Path) -> tuple[float, int]:
    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    with Executor(workers=1) as executor:
        cohort = process_cohort(sources, config, cache, executor)
    elapsed = time.perf_counter() - start
    return cohort.features.sizes["window"] / elapsed, int(cohort.features.sizes["window"])


def profile_subject(path: Path, config: RunConfig, cache: Path) -> dict[str, float]:
    """Seconds per stage of subject 1 through the same functions as :func:`biosig.pipeline.session_features`."""
    times: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(name: str):
        t0 = time.perf_counter()
        yield
        times[name] += time.perf_counter() - t0

    wall = time.perf_counter()
    with stage("read"):
        session = _load(path, 1)
    cfg = config.preprocess
    log = pre.PreprocessLog()
    with stage("filter"):
        raw = pre._pick_channels(session.eeg, cfg.channels, "S01")
        pre._flag_non_finite(raw, log)
        pre.apply_filters(raw, cfg.filter)
    with stage("bad channels"):
        pre.detect_bad_channels(raw, cfg.bad_channels, log)
    with stage("interpolation"):
        pre._repair_bad_channels(raw, cfg.bad_channels, log, "S01")
    with stage("reference"):
        pre._set_reference(raw, cfg.reference, "S01")
    with stage("peripheral features"):
        events = detect_session_events(session)
    parts = {}
    for segment in ("stimulus", "baseline"):
        with stage("windowing"):
            table = window_table(session.trials, config.windows, segment, cfg.baseline, label="S01")
            data = slice_windows(raw, table["t_start"].to_numpy(), config.windows.length, "S01")
        with stage("EEG features"):
            feats = eeg_features(data, raw.info["sfreq"], raw.ch_names, config.features)
        with stage("peripheral features"):
            starts = table["t_start"].to_numpy()
            feats = feats.merge(peripheral_features(*events, starts, starts + config.windows.length))
        parts[segment] = feats.assign_coords(trial=("window", table["trial"].to_numpy()))
    with stage("EEG features"):
        features = subtract_baseline(parts["stimulus"], parts["baseline"])
        features = features.assign_coords(subject=("window", np.full(features.sizes["window"], "S01")))
        features.attrs.update(eeg_sfreq=float(raw.info["sfreq"]))
    with stage("cache write"):
        shutil.rmtree(cache, ignore_errors=True)
        store = FeatureCache(cache)
        store.write(entry_key({"profile": 1}, config), SessionResult("S01", features, log, raw.info), {"profile": 1})
    times["wall"] = time.perf_counter() - wall
    return dict(times)


def run_torcheeg_mode(quick: bool, stimulus_seconds: float, workdir: Path | None) -> None:
    """Write the file, print the three throughputs with their ratios, and the profile."""
    synth = SyntheticConfig(
        n_subjects=N_SUBJECTS,
        n_trials=4 if quick else 18,
        baseline_seconds=20.0 if quick else 61.0,
        stimulus_seconds=20.0 if quick else stimulus_seconds,
    )
    folder = workdir or Path(tempfile.mkdtemp(prefix="bench_torcheeg_"))
    folder.mkdir(parents=True, exist_ok=True)
    mat = write_dreamer_mat((make_session(k, synth) for k in range(N_SUBJECTS)), folder / "DREAMER.mat")
    identity = file_identity(mat)
    sources = [
        CallableSource(f"S{k:02d}", partial(_load, mat, k), {"dreamer": identity, "subject": k})
        for k in range(1, N_SUBJECTS + 1)
    ]
    print(
        f"workload: {N_SUBJECTS} subjects x {synth.n_trials} trials x ({synth.baseline_seconds:g} s baseline + "
        f"{synth.stimulus_seconds:g} s clip), 1-s windows, DE in 4 bands, baseline removal; "
        f"DREAMER.mat {mat.stat().st_size / 1e6:.0f} MB; cores {os.cpu_count()}; {_load_avg()}"
    )
    rows = []
    for name, config in (("ours, EEG + ECG features", _config(True)), ("ours, EEG only", _config(False))):
        rate, n = ours_windows_per_s(sources, config, folder / "cache")
        rows.append((name, rate, n, _load_avg()))
    rate, n = floor_windows_per_s(mat)
    rows.append(("floor: loadmat + vectorised DE", rate, n, _load_avg()))
    print(f"{'path':34s} {'windows':>8s} {'windows/s':>10s}  load")
    for name, rate, n, load in rows:
        print(f"{name:34s} {n:8d} {rate:10.0f}  {load}")
    with_ecg, eeg_only, floor = (r[1] for r in rows)
    print(f"EEG+ECG / EEG-only: {with_ecg / eeg_only:.2f} (goal >= 0.50)")
    print(f"floor / EEG-only:   {floor / eeg_only:.2f} (goal <= 3.00)")
    times = profile_subject(mat, _config(True), folder / "profile_cache")
    wall = times.pop("wall")
    print(f"profile of subject S01 (EEG + ECG), wall {wall:.2f} s, {_load_avg()}:")
    for name, seconds in times.items():
        print(f"  {name:22s} {seconds:7.3f} s {100 * seconds / wall:5.1f} %")
    if workdir is None:
        shutil.rmtree(folder, ignore_errors=True)
