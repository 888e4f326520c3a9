"""End-to-end latency of the live pipeline over LSL, its compute cost, and a bare pylsl + numpy baseline.

Workload, for each montage (14 channels at 128 Hz, 64 channels at 512 Hz)
and model (HiSTN on the raw window, DGCNN on its differential entropy;
``--models histn@128`` adds HiSTN at its published 128 Hz, the stream
resampled causally in the pipeline), 1-s windows every 125 ms, the default causal filters (50 Hz notch, 1-45 Hz
band-pass, order 4) and average reference:

* this process plays pink-noise EEG (about 10 µV, float32 microvolts, seeded)
  on an LSL outlet in real time, in chunks of 1/32 s, stamping sample *i*
  ``t0 + i / sfreq`` and noting ``pylsl.local_clock()`` at each push;
* ``biosig stream`` runs in a subprocess on a checkpoint with random weights
  and publishes its predictions; this process reads them and takes
  ``local_clock()`` at arrival. The **latency** of a window is arrival time
  minus the push time of the chunk holding the window's last sample (found
  from the prediction's stamp), over the windows after ``--warmup`` s. The
  subprocess's **CPU use** (user + system, % of one core) comes from
  ``/proc/<pid>/stat`` over the same span (Linux), and its **idle CPU** over
  the next ``--idle`` seconds, when the source stream is still there but
  sends nothing (the inlet must block, not spin: close to zero);
* **compute only**: the same :class:`~streaming.online.OnlinePipeline` fed
  one hop at a time in this process: time per window of filtering,
  features and model, one torch thread and one BLAS thread;
* **baseline**: a loop written directly on pylsl and numpy (pull chunks,
  keep the last second, an FFT power per window, push one sample stamped
  with the window's last sample) in a subprocess, measured the same way; the
  ratio is pipeline latency / baseline latency.

Targets: p99 end to end < 20 ms and compute < 5 ms per window. Run
``python benchmarks/bench_latency.py`` (2 min per measurement, about 15 min
in all) or ``--seconds 20`` for a quick look. All LSL traffic stays on
loopback (``use_lsl_config()``). The load average is printed: on a shared
machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streaming.lslconfig import use_lsl_config

HOP = 0.125
CHUNK_SECONDS = 1.0 / 32.0
MONTAGES = {"14x128": (14, 128.0), "64x512": (64, 512.0)}


def channel_names(n: int) -> list[str]:
    """Emotiv's 14 channels, or the 64 of the BioSemi cap."""
    if n == 14:
        return ["AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4"]
    import mne

    return mne.channels.make_standard_montage("biosemi64").ch_names[:n]


def pink_eeg(n_channels: int, sfreq: float, seconds: float, seed: int = 0) -> np.ndarray:
    """``(n_times, n_channels)`` float32 microvolts: 1/f noise of 10 µV plus a 10 Hz rhythm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    spec = np.fft.rfft(rng.standard_normal((n_channels, n)), axis=-1)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=-1)
    x = 10.0 * x / x.std(axis=-1, keepdims=True)
    x += 5.0 * np.sin(2 * np.pi * 10.0 * np.arange(n) / sfreq + rng.uniform(0, 6, (n_channels, 1)))
    return x.T.astype(np.float32)


def make_checkpoint(model: str, n_channels: int, sfreq: float, folder: Path) -> Path:
    """A random-weight checkpoint for ``model`` on the montage (inputs scaled by 10 µV).

    ``model`` is ``histn``, ``dgcnn`` or ``NAME@RATE``: the model at ``RATE`` Hz
    (e.g. ``histn@128``, HiSTN's published 128-sample windows), which the live
    pipeline reaches by resampling the stream causally.
    """
    model, _, rate = model.partition("@")
    sfreq = float(rate) if rate else sfreq
    from biosig.config import FeatureConfig, FilterConfig, WindowConfig
    from graphs.models import build_model
    from graphs.regions import hierarchy_for
    from streaming.model_io import LiveSpec, live_metadata, save_live_checkpoint

    names = channel_names(n_channels)
    hparams: dict = {"n_outputs": 5}
    if model == "histn":
        hierarchy = hierarchy_for(names)
        names = list(hierarchy.channels)
        hparams |= {"n_times": int(sfreq), "hierarchy": hierarchy}
    else:
        hparams |= {"n_channels": n_channels}
    spec = LiveSpec(
        tuple(names), sfreq, WindowConfig(length=1.0, hop=HOP), FilterConfig(method="iir", causal=True), "average",
        FeatureConfig(), scale=np.full(n_channels, 1e-5),
    )  # fmt: skip
    path = folder / f"{model}-{n_channels}-{sfreq:g}.pt"
    meta = live_metadata(model, hparams, spec, target="valence", scale=[1, 2, 3, 4, 5])
    return save_live_checkpoint(path, build_model(model, **hparams), meta)


def compute_only(checkpoint: Path, data_uv: np.ndarray, sfreq: float, n_windows: int) -> np.ndarray:
    """Seconds per window of the online pipeline fed one hop at a time, after its filter warm-up."""
    import torch
    from threadpoolctl import threadpool_limits

    from streaming.model_io import load_live_model
    from streaming.online import OnlinePipeline

    torch.set_num_threads(1)
    threadpool_limits(limits=1, user_api="blas")  # as biosig stream does (LiveSession torch_threads=1)
    live = load_live_model(checkpoint)
    pipe = OnlinePipeline(live, max_lag=None, stream_sfreq=sfreq)
    names = channel_names(data_uv.shape[1])
    picks = [names.index(ch) for ch in live.spec.channels]
    x = data_uv[:, picks].astype(np.float64) * 1e-6
    hop = int(HOP * sfreq)
    times = []
    for i in range(0, len(x) - hop, hop):
        start = time.perf_counter()
        step = pipe.process(x[i : i + hop], np.arange(i, i + hop) / sfreq)
        elapsed = time.perf_counter() - start
        if step.windows and step.windows[0].predicted:
            times.append(elapsed / len(step.windows))
            if len(times) >= n_windows:
                break
    return np.asarray(times)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One end-to-end measurement."""

    latency: np.ndarray  # s, per window
    cpu_percent: float
    windows: int
    idle_cpu_percent: float


def end_to_end(command: list[str], eeg_name: str, out_name: str, data_uv: np.ndarray, sfreq: float,
               seconds: float, warmup: float, idle: float) -> Run:  # fmt: skip
    """Play ``data_uv`` on ``eeg_name`` in real time while ``command`` turns it into ``out_name`` (module docstring)."""
    import pylsl

    n_ch = data_uv.shape[1]
    info = pylsl.StreamInfo(eeg_name, "EEG", n_ch, sfreq, pylsl.cf_float32, eeg_name)
    info.set_channel_labels(channel_names(n_ch))
    info.set_channel_units("microvolts")
    outlet = pylsl.StreamOutlet(info)
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        found = pylsl.resolve_byprop("name", out_name, timeout=120.0)
        if not found:
            why = worker.stderr.read() if worker.poll() is not None else "still running"
            raise RuntimeError(f"{command[:4]} did not publish {out_name}: {why}")
        inlet = pylsl.StreamInlet(found[0])
        inlet.open_stream(timeout=10.0)
        outlet.wait_for_consumers(10.0)
        chunk = int(round(CHUNK_SECONDS * sfreq))
        n_chunks = int((warmup + seconds) * sfreq) // chunk
        push_times = np.full(n_chunks, np.nan)
        arrivals: list[tuple[float, float]] = []
        done = threading.Event()

        def receive() -> None:
            while not done.is_set():
                sample, stamp = inlet.pull_sample(timeout=0.2)
                if sample is not None:
                    arrivals.append((pylsl.local_clock(), stamp))

        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
        t0 = pylsl.local_clock() + 0.05
        cpu_start = None
        for k in range(n_chunks):
            due = t0 + (k + 1) * chunk / sfreq
            delay = due - pylsl.local_clock()
            if delay > 0:
                time.sleep(delay)
            if cpu_start is None and k * chunk >= warmup * sfreq:
                cpu_start, wall_start = cpu_seconds(worker.pid), time.monotonic()
            rows = np.arange(k * chunk, (k + 1) * chunk)
            push_times[k] = pylsl.local_clock()
            outlet.push_chunk(data_uv[rows % len(data_uv)], (t0 + rows / sfreq).tolist())
        cpu = (cpu_seconds(worker.pid) - cpu_start) / (time.monotonic() - wall_start) * 100.0
        time.sleep(1.0)
        done.set()
        receiver.join()
        idle_start, idle_wall = cpu_seconds(worker.pid), time.monotonic()
        time.sleep(idle)
        idle_cpu = (cpu_seconds(worker.pid) - idle_start) / (time.monotonic() - idle_wall) * 100.0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latency = []
    for arrival, stamp in arrivals:
        last = int(round((stamp - t0) * sfreq))
        if last >= warmup * sfreq and last // chunk < n_chunks:
            latency.append(arrival - push_times[last // chunk])
    return Run(np.asarray(latency), cpu, len(arrivals), idle_cpu)


def baseline_worker(eeg_name: str, out_name: str, length: float, hop: float) -> None:
    """The baseline loop: pylsl pulls into a numpy ring, one FFT power per window, one sample out."""
    import pylsl

    found = pylsl.resolve_byprop("name", eeg_name, timeout=30.0)
    inlet = pylsl.StreamInlet(found[0], processing_flags=pylsl.proc_clocksync | pylsl.proc_dejitter)
    sfreq = inlet.info().nominal_srate()
    n_ch, n_win, n_hop = inlet.channel_count, int(length * sfreq), int(hop * sfreq)
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(out_name, "Affect", 5, 1 / hop, pylsl.cf_float32, out_name))
    ring = np.zeros((n_win, n_ch))
    seen = 0
    while True:
        data, stamps = inlet.pull_chunk(timeout=1.0, max_samples=1024, min_samples=1, as_numpy=True)
        for row, stamp in zip(data, stamps, strict=True):
            ring[seen % n_win] = row
            seen += 1
            if seen >= n_win and (seen - n_win) % n_hop == 0:
                power = np.abs(np.fft.rfft(ring - ring.mean(axis=0), axis=0)) ** 2
                outlet.push_sample([float(power.mean())] * 5, stamp)


def percentiles(values: np.ndarray) -> str:
    """p50/p95/p99 in ms."""
    if not len(values):
        return "   -- /    -- /    --"
    p = np.percentile(values, [50, 95, 99]) * 1e3
    return f"{p[0]:6.2f} / {p[1]:6.2f} / {p[2]:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="measured seconds per end-to-end run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds left out at the start of each run")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of a silent source for the idle CPU figure")
    parser.add_argument("--montages", default="14x128,64x512", help=f"comma-separated, of {sorted(MONTAGES)}")
    parser.add_argument(
        "--models", default="histn,dgcnn",
        help="comma-separated: histn, dgcnn, or NAME@RATE for a model at RATE Hz (the stream is resampled)",
    )
    parser.add_argument("--compute-windows", type=int, default=200, help="windows timed for the compute-only figure")
    parser.add_argument("--baseline-worker", nargs=4, metavar=("EEG", "OUT", "LENGTH", "HOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_lsl_config()
    if args.baseline_worker:
        eeg, out, length, hop = args.baseline_worker
        baseline_worker(eeg, out, float(length), float(hop))
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.seconds:g} s per run "
          f"after {args.warmup:g} s; 1-s windows every {HOP * 1e3:g} ms; latencies p50 / p95 / p99 in ms")  # fmt: skip
    print(f"{'montage':<8} {'model':<9} {'end to end':>22} {'CPU %':>6} {'idle %':>6} {'windows':>8} "
          f"{'compute/window':>22} {'ratio p50/p99':>14}")  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    for montage in args.montages.split(","):
        n_ch, sfreq = MONTAGES[montage]
        data = pink_eeg(n_ch, sfreq, 60.0)
        eeg_name, out_name = f"bench-eeg-{montage}", f"bench-out-{montage}"
        base = end_to_end(
            [sys.executable, __file__, "--baseline-worker", eeg_name, f"{out_name}-base", "1.0", str(HOP)],
            eeg_name, f"{out_name}-base", data, sfreq, args.seconds, args.warmup, args.idle,
        )  # fmt: skip
        print(f"{montage:<8} {'baseline':<9} {percentiles(base.latency):>22} {base.cpu_percent:6.1f} "
              f"{base.idle_cpu_percent:6.1f} {base.windows:8d}")  # fmt: skip
        for model in args.models.split(","):
            if "@" in model and float(model.partition("@")[2]) == sfreq:
                continue  # the same as the model without a rate
            checkpoint = make_checkpoint(model, n_ch, sfreq, folder)
            compute = compute_only(checkpoint, data, sfreq, args.compute_windows)
            run = end_to_end(
                [sys.executable, "-c", "from biosig.cli import main; main()", "stream", "-m", str(checkpoint),
                 "--eeg", f"name={eeg_name}", "--name", f"{out_name}-{model.replace('@', '-at-')}", "--quiet"],
                eeg_name, f"{out_name}-{model.replace('@', '-at-')}", data, sfreq, args.seconds, args.warmup, args.idle,
            )  # fmt: skip
            ratio = (
                f"{np.median(run.latency) / np.median(base.latency):5.2f} / "
                f"{np.percentile(run.latency, 99) / np.percentile(base.latency, 99):5.2f}"
                if len(run.latency) and len(base.latency) else "--"
            )  # fmt: skip
            print(f"{montage:<8} {model:<9} {percentiles(run.latency):>22} {run.cpu_percent:6.1f} "
                  f"{run.idle_cpu_percent:6.1f} {run.windows:8d} {percentiles(compute):>22} {ratio:>14}")  # fmt: skip


if __name__ == "__main__":
    main()
