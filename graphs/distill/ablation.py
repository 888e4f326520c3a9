"""The ablation over seeds: loss variants with the EEG grid, the control grids, their statistics.

Conditions. Each variant of ``variants`` trained with the EEG grid is a
condition named by the variant (``ce``, ``ce+kd``, ...); ``control_variant``
trained with a control grid (:mod:`graphs.distill.controls`) is the condition
``<control_variant> (<control>)``. Every condition is trained with the seeds
``student.seed + k`` (``k < ablation.n_seeds``), the same seeds for all, so
the runs pair by seed: with one seed, two conditions start from the same
weights and see the same batches.

Statistics (:func:`summarise`). Per condition and metric: mean and sample
SD (``ddof=1``; 0 for one seed) over the seeds. Comparisons: the EEG
``control_variant`` against each control and against the brain-free
reference ``ablation.brain_free``, on the test (and cross-set) macro-F1,
each a Wilcoxon signed-rank test over *seeds* (not subjects: the unit is a
repeated training run) from :func:`biosig.evaluation.statistics.paired_comparisons`,
Holm-corrected over the comparisons of one metric. With ``n`` seeds the
smallest two-sided p-value is ``2 / 2**n`` (3 seeds: 0.25), so the report
gives the mean differences and the seeds won beside the p-values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from biosig.evaluation.statistics import PairedComparison, holm, paired_comparisons

from .circumplex import class_cells
from .config import DistillConfig
from .controls import circumplex_prototypes, shuffled_cells
from .evaluate import classification_metrics, grid_agreement
from .face_data import FaceSet, FaceSplits
from .train import GridTargets, StudentRun, predict, train_student

Log = Callable[[str], None]
SCALARS = ("accuracy", "macro_f1", "balanced_accuracy", "present_macro_f1")
AGREEMENT = ("cell_accuracy", "within_one", "valence_mae_levels", "arousal_mae_levels")


def condition_name(variant: str, control: str | None = None) -> str:
    """Name of a condition: the variant, with ``(control)`` after it for a control grid."""
    return variant if control is None else f"{variant} ({control})"


@dataclass
class AblationRuns:
    """Every run's results, by condition then seed, and the first seed's trained students.

    Attributes
    ----------
    results
        ``{condition: [per-seed result dict]}``: ``seed``, ``test`` (and
        ``cross``) metrics of :func:`~graphs.distill.evaluate.classification_metrics`,
        ``grid_agreement``, ``best_epoch``, ``seconds``, ``dgeo_share`` (last epoch).
    histories
        ``{condition: history of the first seed}``.
    first_runs
        ``{variant: StudentRun}`` of the first seed with the EEG grid.
    controls
        Controls that ran (``random_teacher`` needs a teacher; a reused grid has none).
    """

    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    first_runs: dict[str, StudentRun] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)


def control_prototypes(
    control: str, seed: int, eeg_prototypes: np.ndarray, random_grid: Callable[[int], np.ndarray] | None
) -> np.ndarray:
    """Unit prototypes ``(25, D)`` of a control for one seed (:mod:`graphs.distill.controls`)."""
    if control == "shuffled_cells":
        return shuffled_cells(eeg_prototypes, seed)
    if control == "circumplex":
        return circumplex_prototypes(eeg_prototypes.shape[1])
    if random_grid is None:
        raise ValueError("the random_teacher control needs a teacher")
    return random_grid(seed)


def run_ablation(
    cfg: DistillConfig,
    splits: FaceSplits,
    cross: FaceSet | None,
    targets: GridTargets,
    random_grid: Callable[[int], np.ndarray] | None,
    log: Log,
) -> AblationRuns:
    """Train every condition with every seed (module docstring) and evaluate it.

    Parameters
    ----------
    cfg
        The run's configuration.
    splits, cross
        Face sets: training, validation, test; optional cross-dataset test set.
    targets
        The EEG grid's targets.
    random_grid
        Seed -> unit prototypes of an untrained teacher; None when no teacher
        ran (a reused grid), which skips the ``random_teacher`` control.
    log
        Progress lines.
    """
    runs = AblationRuns()
    runs.controls = [c for c in cfg.ablation.controls if c != "random_teacher" or random_grid is not None]
    if len(runs.controls) < len(cfg.ablation.controls):
        log("random_teacher control skipped: the grid was loaded, so there is no teacher to re-initialise")
    cells = class_cells(cfg.classes, cfg.circumplex)
    seeds = [cfg.student.seed + k for k in range(cfg.ablation.n_seeds)]
    for k, seed in enumerate(seeds):
        jobs: list[tuple[str, str, GridTargets]] = [(v, v, targets) for v in cfg.variants]
        for control in runs.controls:
            protos = control_prototypes(control, seed, targets.prototypes, random_grid)
            grid = GridTargets(protos, targets.class_cell, targets.positive)
            jobs.append((condition_name(cfg.ablation.control_variant, control), cfg.ablation.control_variant, grid))
        for name, variant, grid in jobs:
            run = train_student(variant, splits.train, splits.val, grid, cfg, seed=seed)
            logits, projection = predict(run.model, splits.test)
            res: dict[str, Any] = {
                "seed": seed,
                "test": classification_metrics(splits.test.labels, logits.argmax(axis=1), len(cfg.classes)),
                "grid_agreement": grid_agreement(projection, cells[splits.test.labels], grid.prototypes),
                "best_epoch": run.best_epoch,
                "seconds": run.seconds,
                "dgeo_share": run.history[-1]["dgeo_share"],
            }
            if cross is not None:
                cross_logits, _ = predict(run.model, cross)
                res["cross"] = classification_metrics(cross.labels, cross_logits.argmax(axis=1), len(cfg.classes))
            log(
                f"seed {seed} {name}: test macro-F1 {res['test']['macro_f1']:.3f}, "
                f"D-Geo share {100 * res['dgeo_share']:.1f}% ({run.seconds:.0f} s)"
            )
            runs.results.setdefault(name, []).append(res)
            if k == 0:
                runs.histories[name] = run.history
                if name == variant and grid is targets:
                    runs.first_runs[variant] = run
    return runs


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0


def aggregate(per_seed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and SD over the seeds of one condition.

    Keys: ``test``, ``cross``, ``grid_agreement`` (means; ``test`` also the
    confusion matrix summed over seeds), ``*_sd`` (sample SDs), ``dgeo_share``
    and ``dgeo_share_sd`` (last epoch), ``best_epoch`` (mean), ``seconds``
    (total), ``n_seeds``, ``seeds``.
    """
    out: dict[str, Any] = {"n_seeds": len(per_seed), "seeds": [r["seed"] for r in per_seed]}
    for part, keys in (("test", SCALARS), ("cross", SCALARS), ("grid_agreement", AGREEMENT)):
        if part not in per_seed[0]:
            continue
        stats = {k: _mean_sd([r[part][k] for r in per_seed]) for k in keys}
        out[part] = {k: m for k, (m, _) in stats.items()}
        out[f"{part}_sd"] = {k: s for k, (_, s) in stats.items()}
    if "test" in per_seed[0] and "confusion" in per_seed[0]["test"]:
        out["test"]["confusion"] = np.sum([r["test"]["confusion"] for r in per_seed], axis=0).tolist()
    share = _mean_sd([r["dgeo_share"] for r in per_seed])
    out["dgeo_share"], out["dgeo_share_sd"] = share
    out["best_epoch"] = _mean_sd([r["best_epoch"] for r in per_seed])[0]
    out["seconds"] = float(np.sum([r["seconds"] for r in per_seed]))
    return out


def compare(
    results: Mapping[str, Sequence[Mapping[str, Any]]], reference: str, others: Sequence[str], part: str, metric: str
) -> list[dict[str, Any]]:
    """``reference`` vs each of ``others`` on ``results[...][part][metric]``, paired over seeds (module docstring).

    Each entry: :class:`~biosig.evaluation.statistics.PairedComparison` fields
    (``p_holm`` over this family), ``mean_difference`` (reference minus
    other), ``wins`` (seeds where the reference is higher), ``n_seeds``, ``unit: "seeds"``.
    """
    scores = {name: {f"seed {r['seed']}": r[part][metric] for r in results[name]} for name in (reference, *others)}
    tests: list[PairedComparison] = [
        paired_comparisons({reference: scores[reference], other: scores[other]})[0] for other in others
    ]
    adjusted = holm([t.p_value for t in tests])
    out = []
    for test, p_holm, other in zip(tests, adjusted, others, strict=True):
        common = [s for s in scores[reference] if s in scores[other]]
        diff = np.array([scores[reference][s] - scores[other][s] for s in common])
        out.append(
            {
                **asdict(test),
                "p_holm": float(p_holm),
                "metric": f"{part} {metric}",
                "mean_difference": float(diff.mean()) if len(diff) else float("nan"),
                "wins": int((diff > 0).sum()),
                "n_seeds": len(common),
                "unit": "seeds",
            }
        )
    return out


def summarise(cfg: DistillConfig, runs: AblationRuns) -> dict[str, Any]:
    """Aggregates per condition, the comparisons and the plain-words result (``metrics.json``'s ``ablation``)."""
    conditions = {name: aggregate(rows) for name, rows in runs.results.items()}
    reference = cfg.ablation.control_variant
    others = [condition_name(reference, c) for c in runs.controls]
    if cfg.ablation.brain_free in runs.results and cfg.ablation.brain_free != reference:
        others.append(cfg.ablation.brain_free)
    comparisons: list[dict[str, Any]] = []
    if reference in runs.results and others:
        parts = ["test"] + (["cross"] if "cross" in runs.results[reference][0] else [])
        for part in parts:
            comparisons += compare(runs.results, reference, others, part, "macro_f1")
    return {
        "seeds": [cfg.student.seed + k for k in range(cfg.ablation.n_seeds)],
        "reference": reference,
        "controls": list(runs.controls),
        "conditions": conditions,
        "comparisons": comparisons,
        "result": result_line(reference, conditions, comparisons),
    }


def result_line(reference: str, conditions: Mapping[str, Any], comparisons: Sequence[Mapping[str, Any]]) -> str:
    """A plain-words verdict on whether the EEG grid beat every control and the brain-free reference, with the numbers.

    "Helps" needs a higher test macro-F1 than every other condition in every
    seed and Holm p <= 0.05; higher in every seed without that is
    "suggestive, not shown"; anything else "does not show that the EEG helps".
    """
    test = [c for c in comparisons if c["metric"] == "test macro_f1"]
    if not test:
        return "No comparison ran (no control and no brain-free reference)."
    ref = conditions[reference]
    n = test[0]["n_seeds"]
    parts = [
        f"{c['b']}: {conditions[c['b']]['test']['macro_f1']:.3f} ± {conditions[c['b']]['test_sd']['macro_f1']:.3f} "
        f"(difference {c['mean_difference']:+.3f}, EEG higher in {c['wins']}/{c['n_seeds']} seeds, "
        f"Holm p = {c['p_holm']:.2f})"
        for c in test
    ]
    beaten = all(c["wins"] == c["n_seeds"] and c["mean_difference"] > 0 for c in test)
    significant = all(c["p_holm"] <= 0.05 for c in test)
    if beaten and significant:
        verdict = (
            "The EEG prototypes beat every control (and the brain-free reference) in every seed, "
            "significantly after Holm's correction"
        )
    elif beaten:
        verdict = (
            f"The EEG prototypes scored higher than every control (and the brain-free reference) in every seed, "
            f"but {n} seeds cannot make that "
            f"significant (smallest possible p = {2 / 2**n:.2f}): suggestive, not shown"
        )
    else:
        verdict = (
            "The EEG teacher's prototypes did not beat every control (and the brain-free reference) in every seed: "
            "this run does not show that the EEG helps"
        )
    return (
        f"{verdict}. Test macro-F1 over {n} seeds, {reference} with the EEG grid "
        f"{ref['test']['macro_f1']:.3f} ± {ref['test_sd']['macro_f1']:.3f}; " + "; ".join(parts) + "."
    )
