"""Every zoo model under every protocol on a synthetic cohort: scores, size and CPU speed, as one table.

Workload: a synthetic DREAMER-like cohort (default 4 subjects x 18 trials,
the last 30 s of each stimulus, 1-s windows with 1-s hops; ``--learnable``
switches to the test suite's cohort with x3 effects and no artefacts), the
five-class task (ratings 1..5) on valence and arousal, and for each model
(HiSTN, EEGNet, DGCNN, TopomapCNN, logistic regression on DE) the protocols
``histn_blocks`` (the published within-trial split), ``within_subject``
(whole trials held out, 5 folds) and ``loso`` (leave-one-subject-out). To keep
the run short, only the first fold of each subject (subject-dependent) and the
first subject (LOSO) are trained, 15 epochs each (lr 0.02, 0.005 from epoch
10, batches of 64, HiSTN's label smoothing), on ``--threads`` torch threads.

Printed per model x protocol x target: weighted F1 (mean over subjects) and
the stratified-chance F1 under the same folds, Seq2HR, trainable parameters,
training seconds per fold and test-set inference windows per second, the last
two also as a ratio to the logistic-regression baseline run side by side.
Speeds depend on the machine's load; the load average is printed.

Run ``python benchmarks/bench_models_table.py`` (about 7 minutes on 2 busy
cores) or ``--quick`` (HiSTN and the baseline, ``within_subject`` only).
"""

from __future__ import annotations

import argparse
import os
import time

from rich.console import Console
from rich.table import Table

from biosig.config import EvaluationConfig, ModelSpec, RunConfig, TrainConfig, TrainWindowConfig
from biosig.datasets.synthetic import SyntheticConfig, make_cohort
from graphs.training.experiment import model_inputs, run_experiment

BASELINE = "logreg_de"
MODELS = ("histn", "eegnet", "dgcnn", "topomap_cnn", BASELINE)
PROTOCOLS = ("histn_blocks", "within_subject", "loso")


def cohort_config(learnable: bool) -> SyntheticConfig:
    """The benchmark's cohort: the default generator, or the test suite's learnable variant."""
    common = dict(n_subjects=4, n_trials=18, stimulus_seconds=30.0, seed=0)
    if not learnable:
        return SyntheticConfig(**common)
    return SyntheticConfig(
        **common,
        baseline_seconds=12.0,
        valence_effect=3.0,
        arousal_effect=3.0,
        atypical_subject_probability=0.0,
        bad_channel_probability=0.0,
        blinks=False,
        line_noise=False,
        drifts=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="HiSTN and the baseline, within_subject only")
    parser.add_argument("--learnable", action="store_true", help="x3 effects, no artefacts (the test suite's cohort)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training (1 is fastest on 2 busy cores)")
    args = parser.parse_args()

    models = ("histn", BASELINE) if args.quick else MODELS
    protocols = ("within_subject",) if args.quick else PROTOCOLS
    windows = TrainWindowConfig(record_seconds=30.0)
    run_cfg = RunConfig(
        models=tuple(ModelSpec(name=m, windows=windows) for m in models),
        evaluation=EvaluationConfig(
            protocols=protocols, targets=("valence", "arousal"), tasks=("five_class",), n_folds=5, max_folds=1
        ),
        train=TrainConfig(epochs=15, batch_size=64, lr=0.02, lr_steps={10: 0.005}, threads=args.threads),
    )
    cfg = run_cfg.train
    synthetic = cohort_config(args.learnable)
    t0 = time.perf_counter()
    inputs = model_inputs(make_cohort(synthetic), run_cfg.models)
    prepared = time.perf_counter() - t0
    n_windows = len(next(iter(inputs.values())))
    print(
        f"workload: {synthetic.n_subjects} subjects x {synthetic.n_trials} trials x 30 s -> {n_windows} windows of 1 s "
        f"({'learnable' if args.learnable else 'default'} cohort); inputs {({k: v.x.shape for k, v in inputs.items()})}; "
        f"built in {prepared:.1f} s"
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"training: {cfg.epochs} epochs, batch {cfg.batch_size}, {args.threads} torch thread(s); load average {load}")
    t0 = time.perf_counter()
    metrics, _ = run_experiment(inputs, run_cfg, on_step=lambda s: print(f"  {s}", flush=True))
    print(f"trained and tested in {time.perf_counter() - t0:.0f} s")

    table = Table(title="five-class scores (mean over subjects) and CPU speed; ratios against the logistic regression")
    keys = ("model", "protocol", "target")
    for col in (*keys, "F1 (w)", "chance F1", "Seq2HR", "params", "train s/fold", "x base", "windows/s", "x base"):
        table.add_column(col, justify="left" if col in keys else "right")
    for model in models:
        for protocol in protocols:
            for target in cfg.targets:
                s = metrics[model][target]["five_class"][protocol]
                base = metrics[BASELINE][target]["five_class"][protocol]
                table.add_row(
                    model, protocol, target,
                    f"{s['f1_weighted']:.3f}", f"{s['chance_f1_weighted']:.3f}", f"{s['seq2hr']:.3f}",
                    str(s["parameters"]),
                    f"{s['train_seconds_per_fold']:.2f}", f"{s['train_seconds_per_fold'] / base['train_seconds_per_fold']:.1f}",
                    f"{s['inference_windows_per_s']:.0f}", f"{s['inference_windows_per_s'] / base['inference_windows_per_s']:.2f}",
                )  # fmt: skip
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
