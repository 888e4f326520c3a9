"""Peripheral (ECG/EDA) window features: NeuroKit2 per window against detection once per recording.

Prints, side by side, the windows per second of the old per-window path
(:func:`biosig.features.peripheral.ecg_window_features` /
:func:`~biosig.features.peripheral.eda_window_features`, still used live) and of
the offline per-recording path (:func:`biosig.features.peripheral_events.detect_ecg_events`
/ :func:`~biosig.features.peripheral_events.detect_eda_events` once, then
:func:`biosig.features.peripheral_windows.ecg_features_from_beats` /
:func:`~biosig.features.peripheral_windows.eda_features_from_events`), with
their ratio and the load average, on

* a real recording: NeuroKit2's ``bio_eventrelated_100hz.csv`` ECG and EDA
  (``../shared/data/neurokit2``, MIT), 150 s at 100 Hz;
* the synthetic cohort's ECG (256 Hz) and EDA (64 Hz) of one subject.

Windows are ``--length`` s long every ``--hop`` s (default 10 s every 1 s, so
each sample lies in 10 windows: the overlap the per-window path recomputes).
A second table, "live incremental", prints the per-window cost of the live
pipeline's peripheral features at a ``--live-hop`` (default 125 ms) over a
``--length`` span: :class:`streaming.online.PeripheralBuffer` fed the samples
of each hop (the causal detectors of
:mod:`biosig.features.peripheral_causal` run on them) and then asked for the
span ending there (:mod:`biosig.features.peripheral_span`), as the median
and 99th percentile ms per window of each signal and of ECG and EDA together
(the target: under 1 ms per window at a 125-ms hop; the 99th percentile of
the thread's CPU time beside the wall clock's, which preemption inflates on a
loaded machine), against the live path before the causal detectors,
NeuroKit2 on that one span (:func:`~biosig.features.peripheral.ecg_window_features`
/ :func:`~biosig.features.peripheral.eda_window_features`), with their ratio
of medians.

Run ``python benchmarks/bench_peripheral.py`` (about a minute on 2 idle
cores) or ``--quick`` (a few seconds: 2 trials, at most 40 windows per path).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from biosig.datasets.synthetic import SyntheticConfig, make_session
from biosig.features.peripheral import ecg_window_features, eda_window_features
from biosig.features.peripheral_events import detect_ecg_events, detect_eda_events
from biosig.features.peripheral_windows import ecg_features_from_beats, eda_features_from_events
from streaming.online import PeripheralBuffer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def windows_per_second(
    signal: np.ndarray, sfreq: float, length: float, hop: float, limit: int | None, kind: str
) -> tuple[int, float, float]:
    """(windows, old per-window windows/s, new per-recording windows/s) for one signal."""
    starts = np.arange(0.0, signal.size / sfreq - length + 1e-9, hop)
    n = int(round(length * sfreq))
    first = np.round(starts * sfreq).astype(np.int64)
    old_starts = first if limit is None else first[:limit]
    per_window: Callable = ecg_window_features if kind == "ECG" else eda_window_features
    tick = time.perf_counter()
    per_window(signal[old_starts[:, None] + np.arange(n)[None, :]], sfreq)
    old = len(old_starts) / (time.perf_counter() - tick)
    tick = time.perf_counter()
    if kind == "ECG":
        ecg_features_from_beats(detect_ecg_events(signal, sfreq), starts, starts + length)
    else:
        eda_features_from_events(detect_eda_events(signal, sfreq), starts, starts + length)
    new = len(starts) / (time.perf_counter() - tick)
    return len(starts), old, new


def live_ms_per_window(
    signal: np.ndarray, sfreq: float, length: float, hop: float, limit: int | None, kind: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Live incremental ms of each window, wall and thread CPU, and NeuroKit2-per-span ms/window.

    Windows are ``length``-s spans every ``hop`` s. The live figures time, per
    hop, adding the hop's samples to a :class:`~streaming.online.PeripheralBuffer`
    and computing the span ending with them (wall clock, and the thread's CPU
    time, which a loaded machine's preemption does not inflate); the NeuroKit2
    figure times the per-span function on one span.
    """
    buffer = PeripheralBuffer(kind.lower(), sfreq, length, 0.1)
    stamps = np.arange(signal.size) / sfreq
    bounds = np.round(np.arange(0.0, signal.size / sfreq + 1e-9, hop) * sfreq).astype(np.int64)
    n = int(round(length * sfreq))
    elapsed, cpu = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        tick, cpu_tick = time.perf_counter(), time.thread_time()
        buffer.add(signal[lo:hi], stamps[lo:hi])
        if hi >= n:
            buffer.features([hi / sfreq])
            elapsed.append(time.perf_counter() - tick)
            cpu.append(time.thread_time() - cpu_tick)
    per_window: Callable = ecg_window_features if kind == "ECG" else eda_window_features
    ends = bounds[bounds >= n][: limit or None]
    tick = time.perf_counter()
    for end in ends:
        per_window(signal[None, end - n : end], sfreq)
    old = (time.perf_counter() - tick) / len(ends)
    return np.asarray(elapsed) * 1e3, np.asarray(cpu) * 1e3, old * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=10.0, help="window length, s")
    parser.add_argument("--hop", type=float, default=1.0, help="window hop, s")
    parser.add_argument("--live-hop", type=float, default=0.125, help="live hop, s")
    parser.add_argument("--quick", action="store_true", help="2 synthetic trials, at most 40 per-window windows")
    args = parser.parse_args()
    limit = 40 if args.quick else None
    table = pd.read_csv(SHARED / "neurokit2" / "bio_eventrelated_100hz.csv")
    session = make_session(1, SyntheticConfig(n_trials=2 if args.quick else 18))
    signals = [
        ("neurokit2 event-related", "ECG", table["ECG"].to_numpy() * 1e-3, 100.0),
        ("neurokit2 event-related", "EDA", table["EDA"].to_numpy() * 1e-6, 100.0),
        ("synthetic subject 1", "ECG", session.ecg.get_data(picks=[0])[0], session.ecg.info["sfreq"]),
        ("synthetic subject 1", "EDA", session.eda.get_data(picks=[0])[0], session.eda.info["sfreq"]),
    ]
    print(f"windows {args.length:g} s every {args.hop:g} s; load average before: {os.getloadavg()}")
    print(f"{'recording':<25}{'kind':<6}{'seconds':>9}{'windows':>9}{'old win/s':>11}{'new win/s':>11}{'ratio':>8}")
    for name, kind, signal, sfreq in signals:
        count, old, new = windows_per_second(signal, sfreq, args.length, args.hop, limit, kind)
        print(f"{name:<25}{kind:<6}{signal.size / sfreq:>9.0f}{count:>9}{old:>11.0f}{new:>11.0f}{new / old:>8.1f}")
    print(f"live incremental: {args.length:g}-s spans every {args.live_hop * 1e3:g} ms; load: {os.getloadavg()}")
    print(
        f"{'recording':<25}{'kind':<9}{'windows':>9}{'median ms':>11}{'p99 ms':>9}{'CPU p99 ms':>12}"
        f"{'NeuroKit2 ms/win':>18}{'ratio':>8}"
    )
    per_recording: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name, kind, signal, sfreq in signals:
        wall, cpu, old = live_ms_per_window(signal, sfreq, args.length, args.live_hop, limit, kind)
        per_recording.setdefault(name, []).append((wall, cpu))
        median = float(np.median(wall))
        print(
            f"{name:<25}{kind:<9}{wall.size:>9}{median:>11.3f}{np.percentile(wall, 99):>9.3f}"
            f"{np.percentile(cpu, 99):>12.3f}{old:>18.3f}{old / median:>8.1f}"
        )
    for name, ((ecg, ecg_cpu), (eda, eda_cpu)) in per_recording.items():
        k = min(ecg.size, eda.size)  # the same hops of one recording
        both, both_cpu = ecg[:k] + eda[:k], ecg_cpu[:k] + eda_cpu[:k]
        print(
            f"{name:<25}{'ECG+EDA':<9}{k:>9}{np.median(both):>11.3f}{np.percentile(both, 99):>9.3f}"
            f"{np.percentile(both_cpu, 99):>12.3f}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
