"""Distillation ablation: control grids, statistics over seeds, the result line, D-Geo's share of the loss."""

from __future__ import annotations

import numpy as np
import pytest

from biosig.errors import ConfigError
from graphs.distill.ablation import AblationRuns, aggregate, compare, result_line, summarise
from graphs.distill.circumplex import FERPLUS_CLASSES, cell_index, class_cells
from graphs.distill.config import distill_config_from_dict
from graphs.distill.controls import circumplex_prototypes, random_teacher_grid, shuffled_cells
from graphs.distill.face_data import FaceSet
from graphs.distill.faces import ExpressionModel, synthetic_faces
from graphs.distill.prototypes import build_grid
from graphs.distill.teacher import Teacher
from graphs.distill.train import GridTargets, train_student
from graphs.models import build_model


def _unit(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    p = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def test_shuffled_cells_permute_the_rows_by_seed() -> None:
    protos = _unit(25, 6)
    a, b, c = shuffled_cells(protos, 1), shuffled_cells(protos, 1), shuffled_cells(protos, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, protos)
    # the same vectors, only on other cells
    assert sorted(map(tuple, a.tolist())) == sorted(map(tuple, protos.tolist()))


@pytest.mark.parametrize("dim", [8, 64])
def test_circumplex_prototypes_follow_grid_distance(dim: int) -> None:
    p = circumplex_prototypes(dim)
    assert p.shape == (25, dim) and p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    cos = p @ p.T
    # from cell (0, 0): neighbour (0, 1) closer than (0, 2), closer than the far corner (4, 4)
    assert cos[0, 1] > cos[0, 2] > cos[0, 24]
    assert cos[12, 13] > cos[12, 24]  # the centre too


def test_random_teacher_grid_uses_untrained_weights_on_the_same_windows() -> None:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(30, 2, 8, 8)).astype(np.float32)
    valence, arousal = rng.uniform(1, 5, 30), rng.uniform(1, 5, 30)
    model = build_model("topomap_cnn", seed=0, n_bands=2, image_size=8, widths=(4, 6), output="regression", n_outputs=2)
    teacher = Teacher(model.eval(), np.zeros(2), np.ones(2), np.ones((8, 8), bool), (1.0, 5.0), "hash")
    a = random_teacher_grid(teacher, images, valence, arousal, seed=0)
    b = random_teacher_grid(teacher, images, valence, arousal, seed=0)
    c = random_teacher_grid(teacher, images, valence, arousal, seed=1)
    np.testing.assert_array_equal(a.prototypes, b.prototypes)
    assert not np.allclose(a.prototypes, c.prototypes)
    own = build_grid(teacher.embed(images), valence, arousal, (1.0, 5.0), teacher_config_hash="hash", dataset={})
    assert not np.allclose(own.prototypes, a.prototypes)  # not the given teacher's weights
    np.testing.assert_array_equal(own.counts, a.counts)  # the same windows in the same cells
    assert a.counts.sum() == 30 and a.metadata["extra"]["control"] == "random_teacher"
    assert a.prototypes.shape == (5, 5, 6)


def _results(values: dict[str, list[float]]) -> dict[str, list[dict]]:
    return {
        name: [
            {
                "seed": s,
                "test": {"accuracy": v, "macro_f1": v, "balanced_accuracy": v, "present_macro_f1": v},
                "grid_agreement": {"cell_accuracy": 0.1, "within_one": 0.5, "valence_mae_levels": 1.0,
                                   "arousal_mae_levels": 1.0},
                "best_epoch": 3,
                "seconds": 1.0,
                "dgeo_share": 0.02 if "dgeo" in name else 0.0,
            }
            for s, v in enumerate(vals)
        ]
        for name, vals in values.items()
    }


def test_aggregate_and_paired_comparison_over_seeds() -> None:
    results = _results({"full": [0.7, 0.8, 0.9], "full (circumplex)": [0.6, 0.7, 0.85], "ce+kd": [0.7, 0.8, 0.9]})
    agg = aggregate(results["full"])
    assert agg["test"]["macro_f1"] == pytest.approx(0.8)
    assert agg["test_sd"]["macro_f1"] == pytest.approx(0.1)  # sample SD over seeds
    assert agg["n_seeds"] == 3 and agg["dgeo_share"] == 0.0
    comps = compare(results, "full", ["full (circumplex)", "ce+kd"], "test", "macro_f1")
    first, second = comps
    assert first["unit"] == "seeds" and first["n_seeds"] == 3 and first["wins"] == 3
    assert first["mean_difference"] == pytest.approx(0.25 / 3)
    assert first["p_value"] == pytest.approx(0.25)  # the smallest two-sided p of 3 pairs
    assert second["p_value"] == 1.0 and second["wins"] == 0  # identical scores
    assert first["p_holm"] == pytest.approx(0.5)  # Holm over the family of two


def test_result_line_says_plainly_whether_the_eeg_helps() -> None:
    results = _results({"full": [0.7, 0.8, 0.9], "full (circumplex)": [0.6, 0.7, 0.85]})
    conditions = {k: aggregate(v) for k, v in results.items()}
    line = result_line("full", conditions, compare(results, "full", ["full (circumplex)"], "test", "macro_f1"))
    assert line.startswith("The EEG prototypes scored higher") and "not shown" in line and "0.25" in line
    results = _results({"full": [0.7, 0.8, 0.9], "full (circumplex)": [0.75, 0.7, 0.95]})
    conditions = {k: aggregate(v) for k, v in results.items()}
    line = result_line("full", conditions, compare(results, "full", ["full (circumplex)"], "test", "macro_f1"))
    assert "does not show that the EEG helps" in line and "1/3 seeds" in line


def test_summarise_compares_the_reference_with_controls_and_brain_free() -> None:
    cfg = distill_config_from_dict({"variants": ["ce+kd", "ce+kd+proto+dgeo"]})
    runs = AblationRuns(
        results=_results({
            "ce+kd": [0.5, 0.6, 0.7],
            "ce+kd+proto+dgeo": [0.6, 0.7, 0.8],
            "ce+kd+proto+dgeo (shuffled_cells)": [0.6, 0.6, 0.6],
        }),
        controls=["shuffled_cells"],
    )
    out = summarise(cfg, runs)
    assert out["seeds"] == [0, 1, 2]
    assert [c["b"] for c in out["comparisons"]] == ["ce+kd+proto+dgeo (shuffled_cells)", "ce+kd"]
    assert out["conditions"]["ce+kd+proto+dgeo"]["dgeo_share"] == pytest.approx(0.02)


def test_ablation_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="control_variant"):
        distill_config_from_dict({"variants": ["ce", "ce+kd"]})
    with pytest.raises(ConfigError, match="cross.expression"):
        distill_config_from_dict({"cross": {"kind": "synthetic", "expression": {"seed": 3}}})
    cfg = distill_config_from_dict({"variants": ["ce", "ce+kd"], "ablation": {"controls": []}})
    assert cfg.ablation.n_seeds == 3


def _short_dgeo_run(epochs: int, d_geo: dict) -> dict:
    """Last history row of a short run of the shipped student, D-Geo's ramp over by epoch 1."""
    images, labels = synthetic_faces(16, FERPLUS_CLASSES, seed=0, expression=ExpressionModel())
    faces = FaceSet(images, labels, FERPLUS_CLASSES, "synthetic")
    targets = GridTargets(circumplex_prototypes(64), cell_index(class_cells(FERPLUS_CLASSES)), (1, 2))
    cfg = distill_config_from_dict(
        {
            "student": {"epochs": epochs, "batch_size": 32, "widths": [8, 16, 32, 64], "lr": 0.003},
            "losses": {"kd": {"ema_decay": 0.9}, "d_geo": {"start_epoch": 0, "end_epoch": 1, **d_geo}},
        }
    )
    return train_student("ce+kd+proto+dgeo", faces, faces, targets, cfg).history[-1]


def test_default_dgeo_weight_is_at_least_one_percent_of_the_loss() -> None:
    """Default (scale-free, share 0.02) D-Geo at full schedule is exactly 2% of the loss, at least 1%."""
    last = _short_dgeo_run(3, {})
    assert last["dgeo_scale"] == 1.0
    assert last["dgeo_share"] == pytest.approx(last["dgeo_weighted"] / last["loss"])
    assert last["dgeo_share"] == pytest.approx(0.02, rel=1e-4)
    assert last["dgeo_share"] >= 0.01


def test_absolute_dgeo_weight_when_share_is_null() -> None:
    last = _short_dgeo_run(2, {"share": None, "weight": 100.0})
    assert last["dgeo_weighted"] == pytest.approx(100.0 * last["dgeo"], rel=1e-4)
