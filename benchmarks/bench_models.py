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

The dense HiSTN is then set beside the PyG path: HierarchicalGNN configured
as HiSTN (scalar Chebyshev conv, attention pooling, same weights) and with
PyG's ChebConv, GCNConv, GATConv, GINConv and SAGEConv, at batch 1024 and at
batch 1 (the live pipeline's one window, timed over 50 calls), in windows/s
with the ratio to the dense HiSTN and the load average at each row.

Run ``python benchmarks/bench_models.py`` (about a minute on an idle machine),
``--repeats 5`` for a quick look, ``--threads 1`` to compare with one thread,
``--pyg-only`` for the dense-versus-PyG table alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from graphs.models import MODELS, EEGModel, HierarchicalGNN, build_model, count_parameters, histn_equivalent

BATCH = 1024
THREADS = 2
#: Calls per timed repeat at batch 1 (one call is well under a millisecond to a few ms).
SINGLE_CALLS = 50
#: HierarchicalGNN variants beside the dense HiSTN: label -> hyper-parameters.
PYG_VARIANTS = {
    "pyg cheb_scalar (=HiSTN)": {"conv": "cheb_scalar"},
    "pyg cheb": {"conv": "cheb"},
    "pyg gcn": {"conv": "gcn"},
    "pyg gat": {"conv": "gat"},
    "pyg gin": {"conv": "gin"},
    "pyg sage": {"conv": "sage"},
}


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


def windows_per_second(model: EEGModel, n_batch: int, repeats: int) -> float:
    """Median windows/s of ``model`` in eval mode on ``n_batch`` windows (batch 1: :data:`SINGLE_CALLS` calls per repeat)."""
    model.eval()
    x = model.example_input(n_batch)
    calls = SINGLE_CALLS if n_batch == 1 else 1
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                model(x)
            times.append((time.perf_counter() - start) / calls)
    return n_batch / statistics.median(times)


def dense_versus_pyg(repeats: int) -> None:
    """Print the dense HiSTN beside the HierarchicalGNN variants at batch 1024 and 1, with ratios and load."""
    histn = build_model("histn")
    models: dict[str, EEGModel] = {"dense HiSTN": histn}
    equivalent = HierarchicalGNN(histn_equivalent(histn.config))
    equivalent.load_state_dict(histn.state_dict())
    models["pyg cheb_scalar (=HiSTN)"] = equivalent
    for label, hparams in PYG_VARIANTS.items():
        models.setdefault(label, build_model("hierarchical_gnn", **hparams))
    print(f"\n{'path':<26} {'trainable':>9} {'win/s @1024':>12} {'ratio':>6} {'load':>5} {'win/s @1':>9} {'ratio':>6} {'load':>5}")
    dense: dict[int, float] = {}
    for label, model in models.items():
        cells = []
        for n_batch in (BATCH, 1):
            rate = windows_per_second(model, n_batch, repeats)
            dense.setdefault(n_batch, rate)
            cells.append(f"{rate:>{12 if n_batch == BATCH else 9},.0f} {rate / dense[n_batch]:>5.2f}x {os.getloadavg()[0]:>5.2f}")
        print(f"{label:<26} {count_parameters(model).trainable:>9,} {' '.join(cells)}")
    print("ratio: windows/s over the dense HiSTN's at the same batch; load: 1-min load average after the row's timing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed batches per model")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch intra-op threads")
    parser.add_argument("--pyg-only", action="store_true", help="only the dense HiSTN versus PyG table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    if args.pyg_only:
        dense_versus_pyg(args.repeats)
        return
    print(f"{'model':<16} {'input':<14} {'trainable':>9} {'+BN stats':>9} {'median win/s':>13} {'best win/s':>11}")
    rates: dict[str, tuple[float, float]] = {}
    for name in MODELS:
        model = build_model(name)
        counts = count_parameters(model, name)
        times = batch_seconds(name, args.repeats)
        rates[name] = (BATCH / statistics.median(times), BATCH / min(times))
        shape = "x".join(str(n) for n in model.input_shape)
        print(f"{name:<16} {shape:<14} {counts.trainable:>9,} {counts.total:>9,} {rates[name][0]:>13,.0f} {rates[name][1]:>11,.0f}")
    median_ratio = rates["histn"][0] / rates["eegnet"][0]
    best_ratio = rates["histn"][1] / rates["eegnet"][1]
    print(f"HiSTN / EEGNet-8,2 throughput: {median_ratio:.1f}x (median), {best_ratio:.1f}x (best)")
    print(f"HiSTN target 20,000 windows/s on 2 cores: median {rates['histn'][0]:,.0f}, best {rates['histn'][1]:,.0f}")
    dense_versus_pyg(args.repeats)


if __name__ == "__main__":
    main()
