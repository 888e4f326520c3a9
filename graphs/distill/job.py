"""The whole ``biosig distill`` run: teacher -> prototype grid -> student ablation -> ONNX -> report.

1. **Grid.** With ``prototypes.path`` set, a saved grid is loaded (validated)
   and the EEG teacher is skipped. Otherwise the EEG cohort's scalp maps are
   built, whole trials are held out, the teacher is trained (or loaded from
   ``teacher.checkpoint``) and saved as ``teacher.pt``, and the grid of its
   held-out embeddings is saved as ``prototypes_<dataset>_5x5_v<format>.npz``
   + ``.json``.
2. **Students.** Every configured variant is trained on the face set
   (:mod:`graphs.distill.train`) and tested on its test split and, when
   ``cross`` is set, on the second face set; the projection's agreement with
   the grid is measured on the test split.
3. **Export.** The last variant is saved (``student.pt``, safe checkpoint)
   and, with ``report.onnx``, exported to ``student.onnx`` and compared with
   ONNX Runtime on test faces.
4. **Report.** ``report.md``, ``metrics.json`` and the PNGs of :mod:`graphs.distill.report`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from .circumplex import cell_index, class_cells
from .config import DistillConfig
from .evaluate import classification_metrics, grid_agreement
from .face_data import face_set, face_splits
from .prototypes import FORMAT_VERSION, PrototypeGrid, build_grid, grid_paths, load_grid, save_grid
from .report import plot_ablation, plot_confusion, plot_curves, plot_faces, plot_grid, write_report
from .train import GridTargets, predict, train_student

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
) -> tuple[PrototypeGrid, dict[str, Any], tuple[Path, Path]]:
    """Step 1 of the module docstring with a teacher: returns the grid, the teacher summary and the grid files."""
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
    data = eeg_topomaps(tcfg)
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
        "path": str(tcfg.source.path) if tcfg.source.path else None,
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
    return grid, summary, files


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
        if cfg.prototypes.path is not None:
            grid = load_grid(cfg.prototypes.path)
            teacher_summary, files = None, grid_paths(cfg.prototypes.path)
            log(f"prototype grid loaded from {files[0]}")
        else:
            grid, teacher_summary, files = build_teacher_grid(cfg, out, log)
        cells = class_cells(cfg.classes, cfg.circumplex)
        targets = GridTargets(
            grid.unit(center=cfg.losses.proto_kd.center),
            cell_index(cells),
            tuple(cfg.classes.index(c) for c in cfg.losses.d_geo.positive_classes),
        )
        splits = face_splits(cfg.faces, cfg.classes, cfg.circumplex)
        cross = face_set(cfg.cross, cfg.classes, cfg.circumplex) if cfg.cross is not None else None
        results: dict[str, dict[str, Any]] = {}
        histories = {}
        runs = {}
        for variant in cfg.variants:
            log(f"student {variant}: {cfg.student.arch}, {cfg.student.epochs} epochs on {len(splits.train)} faces")
            run = train_student(variant, splits.train, splits.val, targets, cfg)
            logits, projection = predict(run.model, splits.test)
            res: dict[str, Any] = {
                "test": classification_metrics(splits.test.labels, logits.argmax(axis=1), len(cfg.classes)),
                "grid_agreement": grid_agreement(projection, cells[splits.test.labels], targets.prototypes),
                "best_epoch": run.best_epoch,
                "seconds": run.seconds,
            }
            if cross is not None:
                cross_logits, _ = predict(run.model, cross)
                res["cross"] = classification_metrics(cross.labels, cross_logits.argmax(axis=1), len(cfg.classes))
            log(
                f"  test accuracy {res['test']['accuracy']:.3f}, macro-F1 {res['test']['macro_f1']:.3f} "
                f"({run.seconds:.0f} s)"
            )
            results[variant], histories[variant], runs[variant] = res, run.history, run
        final = runs[cfg.variants[-1]]
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
        "student": {
            "arch": cfg.student.arch,
            "parameters": int(n_params),
            "epochs": cfg.student.epochs,
            "seed": cfg.student.seed,
        },
        "variants": results,
        "histories": histories,
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
        "ablation": plot_ablation(results, out / "ablation.png").name,
        "curves": plot_curves(histories, out / "curves.png").name,
        "confusion": plot_confusion(
            results[final.variant]["test"]["confusion"],
            cfg.classes,
            f"{final.variant}, test set",
            out / "confusion.png",
        ).name,
        "faces": plot_faces(splits.train, out / "faces.png").name,
    }
    return write_report(out, summary, figures)
