"""Parameter counts and batched CPU inference throughput of every model in the zoo.

Workload: batches of 1024 windows, eval mode, ``torch.inference_mode``, torch
limited to 2 threads. Raw-signal models (HiSTN, EEGNet) get 1-s windows of 14
channels x 128 samples; DE models (DGCNN, logistic regression) 14 channels x
5 bands; TopomapCNN 5 bands x 32 x 32 pixels. Each model runs 3 warm-up
batches, then ``--repeats`` timed batches; the median and the best batch are
reported in windows per second (the best is the machine's capability when
other processes compete for the 2 cores; the load average is printed). HiSTN
is compared with EEGNet-8,2, run side by side on the same input; HiSTN's
target is >= 20,000 windows/s on 2 cores.

Run ``python benchmarks/bench_models.py`` (about 30 s on an idle machine),
``--repeats 5`` for a quick look, ``--threads 1`` to compare with one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from graphs.models import MODELS, build_model, count_parameters

BATCH = 1024
THREADS = 2


def batch_seconds(name: str, repeats: int) -> list[float]:
    """Wall-clock seconds of each timed batch of model ``name`` (default hyper-parameters, 5 classes)."""
    model = build_model(name).eval()
    x = model.example_input(BATCH)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed batches per model")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'model':<12} {'input':<14} {'trainable':>9} {'+BN stats':>9} {'median win/s':>13} {'best win/s':>11}")
    rates: dict[str, tuple[float, float]] = {}
    for name in MODELS:
        model = build_model(name)
        counts = count_parameters(model, name)
        times = batch_seconds(name, args.repeats)
        rates[name] = (BATCH / statistics.median(times), BATCH / min(times))
        shape = "x".join(str(n) for n in model.input_shape)
        print(f"{name:<12} {shape:<14} {counts.trainable:>9,} {counts.total:>9,} {rates[name][0]:>13,.0f} {rates[name][1]:>11,.0f}")
    median_ratio = rates["histn"][0] / rates["eegnet"][0]
    best_ratio = rates["histn"][1] / rates["eegnet"][1]
    print(f"HiSTN / EEGNet-8,2 throughput: {median_ratio:.1f}x (median), {best_ratio:.1f}x (best)")
    print(f"HiSTN target 20,000 windows/s on 2 cores: median {rates['histn'][0]:,.0f}, best {rates['histn'][1]:,.0f}")


if __name__ == "__main__":
    main()
