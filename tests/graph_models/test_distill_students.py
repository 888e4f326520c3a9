"""Students (ResNet-18, small CNN), their training loop, metrics and the ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from biosig.errors import ConfigError, DataError
from graphs.distill.circumplex import FERPLUS_CLASSES, cell_index, class_cells
from graphs.distill.config import distill_config_from_dict
from graphs.distill.evaluate import classification_metrics, grid_agreement, nearest_cells
from graphs.distill.face_data import FaceSet
from graphs.distill.faces import synthetic_faces
from graphs.distill.onnx_export import compare_with_torch, export_onnx, onnx_logits
from graphs.distill.students import build_student
from graphs.distill.train import EmaTeacher, GridTargets, augment, class_weights, train_student
from graphs.models import count_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_resnet18_has_the_standard_parameter_count() -> None:
    # torchvision's resnet18 has 11,689,512 parameters: 9,408 in the 7x7 RGB stem, 128 in its BN and
    # 513,000 in the 1000-way head. Ours: a 3x3 grey stem (576), the same BN and body, an 8-way head (4,104).
    model = build_student("resnet18", 8, 64)
    body = 11_689_512 - 9_408 - 128 - 513_000
    assert (
        count_parameters(model.backbone).trainable + count_parameters(model.classifier).trainable
        == 576 + 128 + body + 4_104
    )
    # projector: 512 -> 512 -> 64
    assert count_parameters(model.projector).trainable == 512 * 512 + 512 + 512 * 64 + 64


@pytest.mark.parametrize(("arch", "feature"), [("resnet18", 32), ("small_cnn", 128)])
def test_student_outputs(arch: str, feature: int) -> None:
    model = build_student(arch, 8, 24, base_width=4, seed=1).eval()
    x = torch.rand(3, 1, 48, 48)
    out = model.outputs(x)
    assert out.logits.shape == (3, 8) and out.feature.shape == (3, feature) and out.projection.shape == (3, 24)
    torch.testing.assert_close(model(x), out.logits)
    again = build_student(arch, 8, 24, base_width=4, seed=1).eval()
    torch.testing.assert_close(again(x), model(x))
    with pytest.raises(DataError, match=r"faces \(n, 1, 48, 48\).*\(3, 3, 48, 48\)"):
        model(torch.rand(3, 3, 48, 48))
    with pytest.raises(ConfigError, match="arch 'vgg'"):
        build_student("vgg", 8, 24)  # type: ignore[arg-type]


def test_class_weights_augment_and_ema() -> None:
    np.testing.assert_allclose(class_weights(np.array([0, 0, 0, 1]), 3), [4 / 6, 4 / 2, 1.0])
    images = np.arange(2 * 48 * 48, dtype=np.int64).reshape(2, 48, 48).astype(np.uint8)
    out = augment(images, np.random.default_rng(0), max_shift=0)
    assert out.shape == (2, 1, 48, 48) and out.dtype == np.float32
    for k in range(2):  # no shift: each image is itself or its mirror
        assert np.allclose(out[k, 0], images[k] / 255) or np.allclose(out[k, 0], images[k, :, ::-1] / 255)
    shifted = augment(images, np.random.default_rng(0), max_shift=3)
    assert shifted.shape == (2, 1, 48, 48)
    student = build_student("small_cnn", 3, 4, widths=(2,), seed=0)
    ema = EmaTeacher(student, decay=0.5)
    first = [p.detach().clone() for p in student.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    ema.update(student)
    for avg, p0 in zip(ema.model.parameters(), first, strict=True):
        torch.testing.assert_close(avg, p0 + 0.5)


def test_metrics_8_way_and_present_only_by_hand() -> None:
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 1])
    m = classification_metrics(y_true, y_pred, 3)
    # F1: class 0 = 2/3, class 1 = 0.8, class 2 (absent, never predicted) = 0
    assert m["accuracy"] == 0.75
    assert m["present_macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]


def test_grid_agreement_by_hand() -> None:
    protos = np.zeros((25, 25), dtype=np.float32)
    protos[np.arange(25), np.arange(25)] = 1.0  # prototype of cell k points along axis k
    projection = np.zeros((3, 25))
    projection[0, 2 * 5 + 3] = 1.0  # nearest (2, 3)
    projection[1, 4 * 5 + 4] = 2.0  # nearest (4, 4)
    projection[2, 0] = 1.0  # nearest (0, 0)
    assert nearest_cells(projection, protos).tolist() == [[2, 3], [4, 4], [0, 0]]
    g = grid_agreement(projection, np.array([[2, 3], [3, 4], [2, 2]]), protos)
    assert g == {"cell_accuracy": 1 / 3, "within_one": 2 / 3, "valence_mae_levels": 1.0, "arousal_mae_levels": 2 / 3}


def _tiny_setup():
    images, labels = synthetic_faces(4, FERPLUS_CLASSES, seed=0)
    faces = FaceSet(images, labels, FERPLUS_CLASSES, "synthetic")
    cells = class_cells(FERPLUS_CLASSES)
    protos = np.random.default_rng(0).normal(size=(25, 6)).astype(np.float32)
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    cfg = distill_config_from_dict({"student": {"epochs": 2, "batch_size": 16, "widths": [4, 8]}})
    return faces, GridTargets(protos, cell_index(cells), (1, 2)), cfg


def test_training_is_reproducible_and_variants_share_their_start() -> None:
    faces, grid, cfg = _tiny_setup()
    a = train_student("ce+kd+proto+dgeo", faces, faces, grid, cfg)
    b = train_student("ce+kd+proto+dgeo", faces, faces, grid, cfg)
    for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)
    assert [r["epoch"] for r in a.history] == [0, 1] and 0 <= a.best_epoch <= 1
    assert a.history[0]["proto"] > 0 and a.history[0]["kd"] >= 0
    ce = train_student("ce", faces, faces, grid, cfg)
    assert ce.history[0]["proto"] == 0.0 and ce.history[0]["kd"] == 0.0
    assert ce.history[0]["ce"] != a.history[0]["ce"] or ce.history[0]["loss"] != a.history[0]["loss"]


def test_onnx_runtime_gives_the_torch_logits(tmp_path: Path) -> None:
    model = build_student("small_cnn", 8, 16, widths=(4, 8), seed=3)
    # move BatchNorm statistics away from their defaults so the check covers them
    model.train()
    with torch.no_grad():
        model.outputs(torch.rand(32, 1, 48, 48))
    path = export_onnx(model.eval(), tmp_path / "student.onnx")
    faces = np.random.default_rng(0).random((5, 1, 48, 48)).astype(np.float32)  # batch differs from the export's
    assert onnx_logits(path, faces).shape == (5, 8)
    assert compare_with_torch(model, path, faces) < 1e-4
