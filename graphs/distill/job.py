"""The whole ``biosig distill`` run: teacher -> prototype grid -> student ablation -> ONNX -> report.

1. **Grid.** With ``prototypes.path`` set, a saved grid is loaded (validated)
   and the EEG teacher is skipped. Otherwise the EEG cohort's scalp maps are
   built, whole trials are held out, the teacher is trained (or loaded from
   ``teacher.checkpoint``) and saved as ``teacher.pt``, and the grid of its
   held-out embeddings is saved as ``prototypes_<dataset>_5x5_v<format>.npz``
   + ``.json``.
2. **Students.** The ablation (:mod:`graphs.distill.ablation`): every
   configured variant with the EEG grid and ``ablation.control_variant``
   with each control grid (:mod:`graphs.distill.controls`), each with
   ``ablation.n_seeds`` seeds, trained on the face set
   (:mod:`graphs.distill.train`) and tested on its test split and, when
   ``cross`` is set, on the second face set; the projection's agreement with
   its grid is measured on the test split.
3. **Export.** The last variant of the first seed is saved (``student.pt``,
   safe checkpoint) and, with ``report.onnx``, exported to ``student.onnx``
   and compared with ONNX Runtime on test faces.
4. **Report.** ``report.md`` and ``metrics.json`` (:mod:`graphs.distill.report`) and the PNGs of
   :mod:`graphs.distill.plots`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .ablation import run_ablation, summarise
from .circumplex import cell_index, class_cells
from .config import DistillConfig
from .face_data import face_set, face_splits
from .faces import class_actions
from .plots import plot_ablation, plot_confusion, plot_curves, plot_faces, plot_grid
from .prototypes import FORMAT_VERSION, PrototypeGrid, build_grid, grid_paths, load_grid, save_grid
from .report import write_report
from .train import GridTargets

Log = Callable[[str], None]


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def build_teacher_grid(
    cfg: DistillConfig, out: Path, log: Log
) -> tuple[PrototypeGrid, dict[str, Any], tuple[Path, Path], Callable[[int], np.ndarray]]:
    """Step 1 of the module docstring with a teacher.

    Returns the grid, the teacher summary, the grid files and the
    ``random_teacher`` control (seed -> unit prototypes ``(25, D)`` of an
    untrained teacher on the same held-out windows, :mod:`graphs.distill.controls`).
    """
    from .controls import random_teacher_grid
    from .teacher import (
        eeg_topomaps,
        holdout_trials,
        load_teacher,
        save_teacher,
        teacher_config_hash,
        teacher_metrics,
        train_teacher,
    )

    tcfg = cfg.teacher
    log(f"EEG teacher data: {tcfg.source.kind} cohort -> DE scalp maps")
    data = eeg_topomaps(tcfg, files_dir=out / "data")
    held = holdout_trials(data.meta, tcfg.holdout_fraction, data.scale, tcfg.seed)
    config_hash = teacher_config_hash(tcfg)
    if tcfg.checkpoint is not None:
        teacher = load_teacher(tcfg.checkpoint, config_hash)
        source = f"loaded from {tcfg.checkpoint}"
    else:
        log(f"training the teacher on {int((~held).sum())} windows ({tcfg.epochs} epochs)")
        teacher = train_teacher(data, ~held, tcfg)
        source = "trained in this run"
    dataset = {
        "kind": tcfg.source.kind,
        "path": str(tcfg.source.root) if tcfg.source.root else None,
        "n_subjects": int(data.meta["subject"].nunique()),
        "n_windows": int(len(data.meta)),
        "n_heldout_windows": int(held.sum()),
        "rating_scale": list(data.scale),
        "bands": list(data.bands),
    }
    save_teacher(teacher, out / "teacher.pt", extra={"dataset": dataset})
    grid = build_grid(
        teacher.embed(data.images[held]),
        data.meta.loc[held, "valence"].to_numpy(),
        data.meta.loc[held, "arousal"].to_numpy(),
        data.scale,
        teacher_config_hash=config_hash,
        dataset=dataset,
    )
    files = save_grid(grid, out / f"prototypes_{tcfg.source.kind}_5x5_v{FORMAT_VERSION}")
    summary = {
        "source": source,
        "dataset": dataset,
        "n_bands": int(data.images.shape[1]),
        "image_size": int(data.images.shape[2]),
        "embed_dim": teacher.model.embed_dim,
        "n_train_windows": int((~held).sum()),
        "heldout": teacher_metrics(teacher, data, held, ~held),
        "history": teacher.history,
        "checkpoint": str(out / "teacher.pt"),
        "config_hash": config_hash,
    }
    held_images = data.images[held]
    held_valence = data.meta.loc[held, "valence"].to_numpy()
    held_arousal = data.meta.loc[held, "arousal"].to_numpy()
    center = cfg.losses.proto_kd.center

    def random_grid(seed: int) -> np.ndarray:
        return random_teacher_grid(teacher, held_images, held_valence, held_arousal, seed, dataset).unit(center)

    return grid, summary, files, random_grid


def run_distill(cfg: DistillConfig, out_dir: str | Path | None = None, log: Log = print) -> Path:
    """Run everything (module docstring); returns the path of ``report.md``.

    Raises
    ------
    ConfigError, DataError
        Bad settings or input (naming the key, file, class or field).
    """
    from graphs.training.trainer import save_checkpoint

    out = Path(out_dir if out_dir is not None else cfg.report.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _torch_threads(cfg.threads):
        random_grid = None
        if cfg.prototypes.path is not None:
            grid = load_grid(cfg.prototypes.path)
            teacher_summary, files = None, grid_paths(cfg.prototypes.path)
            log(f"prototype grid loaded from {files[0]}")
        else:
            grid, teacher_summary, files, random_grid = build_teacher_grid(cfg, out, log)
        cells = class_cells(cfg.classes, cfg.circumplex)
        targets = GridTargets(
            grid.unit(center=cfg.losses.proto_kd.center),
            cell_index(cells),
            tuple(cfg.classes.index(c) for c in cfg.losses.d_geo.positive_classes),
        )
        splits = face_splits(cfg.faces, cfg.classes, cfg.circumplex)
        cross = face_set(cfg.cross, cfg.classes, cfg.circumplex) if cfg.cross is not None else None
        log(
            f"students: {cfg.student.arch}, {cfg.student.epochs} epochs on {len(splits.train)} faces, "
            f"{cfg.ablation.n_seeds} seeds, variants {list(cfg.variants)}, controls {list(cfg.ablation.controls)}"
        )
        runs = run_ablation(cfg, splits, cross, targets, random_grid, log)
        ablation = summarise(cfg, runs)
        log(ablation["result"])
        final = runs.first_runs[cfg.variants[-1]]
        n_params = sum(p.numel() for p in final.model.parameters())
        save_checkpoint(
            out / "student.pt",
            final.model,
            {
                "kind": "distill_student",
                "variant": final.variant,
                "arch": cfg.student.arch,
                "widths": list(cfg.student.widths),
                "base_width": cfg.student.base_width,
                "classes": list(cfg.classes),
                "proj_dim": int(targets.prototypes.shape[1]),
            },
        )
        onnx_summary = None
        if cfg.report.onnx:
            from .onnx_export import compare_with_torch, export_onnx

            path = export_onnx(final.model, out / "student.onnx")
            check = splits.test.tensor_input()[:64]
            onnx_summary = {
                "path": path.name,
                "variant": final.variant,
                "n_checked": int(len(check)),
                "max_abs_diff": compare_with_torch(final.model, path, check),
            }
            log(f"ONNX export {path}: max |ONNX Runtime - torch| = {onnx_summary['max_abs_diff']:.2e}")

    filled_classes = [c for c, (v, a) in zip(cfg.classes, cells, strict=True) if grid.filled[v, a]]
    conditions = ablation["conditions"]
    summary = {
        "name": cfg.name,
        "classes": list(cfg.classes),
        "circumplex": {c: [int(v), int(a)] for c, (v, a) in zip(cfg.classes, cells, strict=True)},
        "teacher": teacher_summary,
        "grid": {
            "npz": files[0].name,
            "json": files[1].name,
            "format_version": grid.metadata.get("format_version"),
            "teacher_config_hash": grid.metadata.get("teacher_config_hash"),
            "counts": grid.counts.tolist(),
            "filled": grid.filled.tolist(),
            "classes_on_filled_cells": filled_classes,
        },
        "faces": {
            name: {"source": s.source, "n": len(s), "counts": s.counts()}
            for name, s in (("train", splits.train), ("val", splits.val), ("test", splits.test))
        },
        "face_expression": face_expression_summary(cfg, cells),
        "student": {
            "arch": cfg.student.arch,
            "parameters": int(n_params),
            "epochs": cfg.student.epochs,
            "seeds": ablation["seeds"],
        },
        "losses": {"d_geo_weight": cfg.losses.d_geo.weight, "proto_kd_weight": cfg.losses.proto_kd.weight},
        "variants": {v: conditions[v] for v in cfg.variants},
        "ablation": ablation,
        "histories": runs.histories,
        "onnx": onnx_summary,
        "seconds": time.perf_counter() - started,
        "config": cfg.model_dump(mode="json"),
    }
    if cross is not None:
        present = sorted(set(cross.labels.tolist()))
        summary["cross"] = {"source": cross.source, "n": len(cross), "present": [cfg.classes[k] for k in present]}
    class_cell_map = {c: (int(v), int(a)) for c, (v, a) in zip(cfg.classes, cells, strict=True)}
    figures = {
        "grid": plot_grid(grid, targets.prototypes, class_cell_map, out / "grid.png").name,
        "ablation": plot_ablation(conditions, out / "ablation.png").name,
        "curves": plot_curves(runs.histories, out / "curves.png").name,
        "confusion": plot_confusion(
            conditions[final.variant]["test"]["confusion"],
            cfg.classes,
            f"{final.variant}, test set, all seeds",
            out / "confusion.png",
        ).name,
        "faces": plot_faces(splits.train, out / "faces.png").name,
    }
    return write_report(out, summary, figures)


def face_expression_summary(cfg: DistillConfig, cells: np.ndarray) -> dict[str, Any]:
    """How the training faces express their classes and how that relates to the grid.

    ``geometry_r``: Pearson correlation, over class pairs, between the
    distance of two classes' expression actions and the distance of their
    grid cells (1 for the circumplex face model: the faces follow the grid by
    construction). None for face sets that are not synthetic.
    """
    if cfg.faces.kind != "synthetic":
        return {"model": None, "geometry_r": None}
    expression = cfg.faces.expression
    actions = class_actions(cfg.classes, cfg.circumplex, expression)
    upper = np.triu_indices(len(cfg.classes), 1)
    action_gap = np.linalg.norm(actions[:, None] - actions[None], axis=2)[upper]
    cell_gap = np.linalg.norm(cells[:, None].astype(float) - cells[None], axis=2)[upper]
    return {
        "model": expression.model,
        "seed": expression.seed if expression.model == "independent" else None,
        "actions": {c: [round(float(x), 4) for x in row] for c, row in zip(cfg.classes, actions, strict=True)},
        "geometry_r": float(np.corrcoef(action_gap, cell_gap)[0, 1]),
    }
