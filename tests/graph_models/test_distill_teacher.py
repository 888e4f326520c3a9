"""EEG teacher: stratified whole-trial hold-out, regression training, safe checkpoints bound to their settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from biosig.errors import ConfigError, DataError
from graphs.distill.config import TeacherConfig
from graphs.distill.prototypes import rating_levels
from graphs.distill.teacher import (
    TopomapData,
    holdout_trials,
    load_teacher,
    rating_targets,
    save_teacher,
    teacher_config_hash,
    train_teacher,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _meta(valence=(1, 3, 5), arousal=(2, 4), n_subjects: int = 4, n_trials: int = 10, seed: int = 0) -> pd.DataFrame:
    """Three windows per trial, ratings drawn from the given levels."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        for t in range(1, n_trials + 1):
            v, a = rng.choice(valence), rng.choice(arousal)
            rows += [{"subject": f"S{s:02d}", "trial": t, "valence": v, "arousal": a}] * 3
    return pd.DataFrame(rows)


def test_holdout_keeps_trials_whole_covers_every_cell_and_keeps_the_fraction() -> None:
    meta = _meta()
    held = holdout_trials(meta, 0.3, (1, 5), seed=1)
    per_trial = meta.assign(held=held).groupby(["subject", "trial"])["held"].agg(["min", "max"])
    assert (per_trial["min"] == per_trial["max"]).all()  # whole trials
    assert int(per_trial["max"].sum()) == round(0.3 * 40)
    cells = rating_levels(meta["valence"], (1, 5)) * 5 + rating_levels(meta["arousal"], (1, 5))
    assert len(set(cells)) == 6 and set(cells[held]) == set(cells)
    # fewer held-out trials than cells: each covers another cell
    sparse = _meta(valence=(1, 2, 3, 4, 5), arousal=(1, 2, 3, 4, 5))
    sparse_held = holdout_trials(sparse, 0.2, (1, 5), seed=0)
    sparse_cells = rating_levels(sparse["valence"], (1, 5)) * 5 + rating_levels(sparse["arousal"], (1, 5))
    assert sparse_held.sum() == 3 * 8 and len(set(sparse_cells[sparse_held])) == 8
    np.testing.assert_array_equal(held, holdout_trials(meta, 0.3, (1, 5), seed=1))
    assert not np.array_equal(held, holdout_trials(meta, 0.3, (1, 5), seed=2))


def test_holdout_never_takes_a_subjects_last_training_trial() -> None:
    meta = pd.DataFrame({"subject": ["S1", "S2", "S2"], "trial": [1, 1, 2], "valence": [1, 5, 3], "arousal": [1, 5, 3]})
    held = holdout_trials(meta, 0.9, (1, 5))
    assert held.tolist()[0] is False and held[1:].sum() == 1
    with pytest.raises(DataError, match="no subject has two trials"):
        holdout_trials(meta.iloc[:2], 0.5, (1, 5))


def _toy_data(n: int = 240, seed: int = 0) -> TopomapData:
    """Maps whose band-0 brightness is the valence and band-1 brightness the arousal, plus noise."""
    rng = np.random.default_rng(seed)
    v, a = rng.integers(1, 6, n), rng.integers(1, 6, n)
    images = rng.normal(0, 0.3, (n, 2, 8, 8)).astype(np.float32)
    images[:, 0] += v[:, None, None]
    images[:, 1] -= a[:, None, None]
    meta = pd.DataFrame({"subject": "S1", "trial": np.arange(n), "valence": v, "arousal": a})
    return TopomapData(images, meta, np.ones((8, 8), dtype=bool), ("A", "B"), ("b0", "b1"), (1.0, 5.0))


CFG = TeacherConfig(widths=(4, 8), epochs=10, batch_size=32, lr=1e-2, topomap_size=8)


def test_rating_targets_map_the_scale_to_unit_range() -> None:
    meta = pd.DataFrame({"valence": [1, 5, 9], "arousal": [5, 5, 1]})
    np.testing.assert_allclose(rating_targets(meta, (1, 9)), [[-1, 0], [0, 0], [1, -1]])


def test_teacher_learns_the_ratings_and_embeds_on_the_unit_sphere() -> None:
    data = _toy_data()
    train = np.arange(len(data.meta)) < 180
    teacher = train_teacher(data, train, CFG)
    pred = teacher.predict_ratings(data.images[~train])
    truth = data.meta.loc[~train, ["valence", "arousal"]].to_numpy(float)
    for k in range(2):
        assert np.corrcoef(pred[:, k], truth[:, k])[0, 1] > 0.8
    z = teacher.embed(data.images[:5])
    assert z.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    assert teacher.history[-1]["train_mse"] < teacher.history[0]["train_mse"]


def test_checkpoint_round_trip_and_settings_check(tmp_path: Path) -> None:
    data = _toy_data(n=64)
    teacher = train_teacher(data, np.ones(64, dtype=bool), CFG.model_copy(update={"epochs": 1}))
    path = save_teacher(teacher, tmp_path / "teacher.pt")
    loaded = load_teacher(path, teacher_config_hash(CFG.model_copy(update={"epochs": 1})))
    np.testing.assert_allclose(loaded.embed(data.images), teacher.embed(data.images), atol=1e-6)
    np.testing.assert_allclose(loaded.band_mean, teacher.band_mean)
    with pytest.raises(ConfigError, match="was trained with teacher settings"):
        load_teacher(path, teacher_config_hash(CFG))
    # the checkpoint path is not part of the settings
    assert teacher_config_hash(CFG) == teacher_config_hash(CFG.model_copy(update={"checkpoint": path}))
    torch.save({"format": 1, "state_dict": {}, "metadata": '{"kind": "other"}'}, tmp_path / "foreign.pt")
    with pytest.raises(DataError, match="not a distillation teacher"):
        load_teacher(tmp_path / "foreign.pt", "x")
    with pytest.raises(DataError, match="does not exist"):
        load_teacher(tmp_path / "none.pt", "x")


def test_dreamer_source_gives_scalp_maps_with_its_ratings(tmp_path: Path) -> None:
    """The teacher reads ``biosig run``'s source section (kind dreamer, ``root``) through sources_from_config."""
    from biosig.config import SourceConfig
    from biosig.datasets.writers import random_dreamer_subject, write_dreamer_mat
    from graphs.distill.teacher import eeg_topomaps

    subjects = [random_dreamer_subject(seed, n_trials=3, stimulus_seconds=6.0, baseline_seconds=6.0) for seed in (0, 1)]
    path = write_dreamer_mat(subjects, tmp_path / "DREAMER.mat")
    cfg = TeacherConfig(
        source=SourceConfig(kind="dreamer", root=path), windows={"length": 2.0, "hop": 2.0}, topomap_size=16
    )
    data = eeg_topomaps(cfg)
    assert data.images.shape == (2 * 3 * 3, 5, 16, 16) and data.scale == (1.0, 5.0)
    assert data.ch_names[0] == "AF3" and len(data.ch_names) == 14
    first_trial = data.meta[(data.meta["subject"] == "S01") & (data.meta["trial"] == 1)]
    assert len(first_trial) == 3 and (first_trial["valence"] == subjects[0]["ScoreValence"][0, 0]).all()
    assert np.isfinite(data.images).all() and (data.images[:, :, ~data.mask] == 0).all()


def test_former_teacher_source_keys_still_load(tmp_path: Path) -> None:
    """A distill config of the former schema (path, 1-based subjects, rating_scale in the source) loads as before."""
    from graphs.distill.config import distill_config_from_dict

    former = {"source": {"kind": "deap", "path": str(tmp_path), "subjects": [1, 12], "rating_scale": [1, 9]}}
    teacher = distill_config_from_dict({"teacher": former}).teacher
    assert teacher.source.kind == "deap" and teacher.source.root == tmp_path
    assert teacher.source.subjects == ("S01", "S12") and teacher.scale == (1.0, 9.0)
    synthetic = distill_config_from_dict({"teacher": {"source": {"synthetic": {"n_subjects": 3}}}}).teacher.source
    assert synthetic.kind == "synthetic" and synthetic.synthetic.n_subjects == 3
    assert not synthetic.via_files  # generated directly, as before
    with pytest.raises(ConfigError, match="teacher.source.path moved to teacher.source.root"):
        distill_config_from_dict({"teacher": {"source": {"kind": "deap", "path": "a", "root": "b"}}})
    with pytest.raises(ConfigError, match="rating_scale .* is required with source kind 'files'"):
        distill_config_from_dict({"teacher": {"source": {"kind": "files", "root": "a", "pattern": "{subject}.edf"}}})
