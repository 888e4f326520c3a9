"""HiSTN's published recipes (configs/histn_*_published.yaml) end to end through ``biosig train``, at reduced size.

The reduced settings are the README's (HiSTN section); each run takes well under a minute on one core.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from biosig.cli import app
from graphs.training.crops import histn_crop_spans
from tests.helpers import REPO_ROOT

#: The README's reduced subject-dependent settings (one subject, 20-s records, two folds, one epoch).
SD_REDUCED = [
    "source.synthetic.n_subjects=1", "source.synthetic.n_trials=4", "models=[{name: histn, windows: {record_seconds: 20}}]",
    "evaluation.targets=[valence]", "evaluation.max_folds=2", "train.epochs=1", "train.crops.val=200",
    "train.crops.test=100", "train.threads=1",
]  # fmt: skip
#: The README's reduced subject-independent settings (three subjects, one LOSO fold, two epochs each stage).
SI_REDUCED = [
    "source.synthetic.n_subjects=3", "source.synthetic.n_trials=4", "evaluation.targets=[valence]",
    "evaluation.max_folds=1", "train.epochs=2", "evaluation.finetune.epochs=2", "train.threads=1",
]  # fmt: skip
AUTHORS = {"authors_top1_accuracy", "authors_top2_accuracy", "authors_f1_weighted", "authors_seq2hr", "authors_tri_p"}


def _train(config: str, settings: list[str], out: Path) -> tuple[dict, str]:
    arguments = ["train", str(REPO_ROOT / "configs" / config)]
    for setting in [*settings, f"report.out_dir={out}"]:
        arguments += ["--set", setting]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text()), (out / "report.md").read_text()


def test_subject_dependent_recipe_trains_on_crops_with_the_shared_checkpoint(tmp_path):
    metrics, report = _train("histn_sd_published.yaml", [*SD_REDUCED, "train.shared_best=true"], tmp_path / "sd")
    entry = metrics["histn"]["valence"]["five_class"]["histn_blocks"]
    folds = entry["folds"]
    assert [f["name"] for f in folds] == ["S01/0", "S01/1"]
    for k, fold in enumerate(folds):
        # The authors' epoch: allowed (record, start) pairs of the 4 trials // 256, 128-sample crops of 2,560-sample records.
        spans = histn_crop_spans(k, 2560, 128)["train"]
        starts = 4 * int((spans[:, 1] - spans[:, 0] - 128 + 1).sum())
        assert fold["sampling"] == "crops" and fold["n_train"] == starts
        assert fold["steps_per_epoch"] == starts // 256
        assert fold["n_val"] == 200 and fold["n_test"] == 100
        # shared_best reached the trainer: every fold reports whether it kept an earlier fold's weights.
        assert isinstance(fold["restored_earlier_fit"], bool)
    assert not folds[0]["restored_earlier_fit"]
    assert entry["pooled"]["n"] == 200
    assert AUTHORS <= set(entry) and all(0.0 <= entry[k] <= 1.0 for k in AUTHORS)
    assert "histn valence five_class histn_blocks, as the authors compute it: top1_accuracy" in report


def test_subject_independent_recipe_corrects_finetunes_and_keeps_the_last_epoch(tmp_path):
    metrics, report = _train("histn_si_published.yaml", SI_REDUCED, tmp_path / "si")
    entry = metrics["histn"]["valence"]["five_class"]["loso"]
    (fold,) = entry["folds"]
    assert fold["name"] == "S01" and "sampling" not in fold and "restored_earlier_fit" not in fold
    assert fold["epochs"] == 2 and fold["best_epoch"] == 1  # keep: last
    # Fine-tuned on the first 10 s (10 one-second windows) of each of the 4 trials, tested on the other 50 s.
    assert fold["n_finetune"] == 4 * 10 and fold["n_test"] == 4 * 50
    assert fold["frozen"] == ["temporal_kernels", "merge"]
    assert AUTHORS <= set(entry)
    assert "as the authors compute it" in report
