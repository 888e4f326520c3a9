"""Face students: ResNet-18 (plain torch, 48 x 48 grey input) and a small CNN, each with a projection head.

Input ``(n, 1, 48, 48)`` float32 grey levels in ``[0, 1]`` (pixel / 255);
the model centres them itself (``(x - 0.5) / 0.25``), so the exported ONNX
graph takes the same input. A backbone gives a feature ``(n, feature_dim)``;
``classifier`` (linear) gives the expression logits ``(n, n_classes)`` and
``projector`` (linear -> ReLU -> linear) the projection ``(n, proj_dim)`` in
the teacher's embedding space, used only by Proto-KD, D-Geo and the grid
agreement. :meth:`Student.forward` returns the logits (what is deployed and
exported); :meth:`Student.outputs` returns all three.

* ``resnet18``: He et al. 2016's ResNet-18 (basic blocks ``[2, 2, 2, 2]``,
  widths 64-128-256-512, stride-2 1x1 projection shortcuts) written out here
  because torchvision has no CPU build in this environment. For 48 x 48 input
  the 7x7 stride-2 stem and the max pool are replaced by one 3x3 stride-1
  convolution (the usual CIFAR adaptation), so the four stages run at
  48, 24, 12 and 6 pixels. ``base_width`` scales the widths (64: the standard
  network, 11,171,784 parameters without the projector for 8 classes).
* ``small_cnn``: blocks of 3x3 conv -> BN -> ReLU with a 2x2 max pool
  between blocks (widths 16-32-64-128 at 48, 24, 12, 6 pixels), then global
  average pooling; for quick CPU runs and tests. One convolution per block:
  two per block tripled the CPU time of the first stages for little gain.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import nn

from biosig.errors import ConfigError, DataError

IMAGE_SIZE = 48
Arch = Literal["resnet18", "small_cnn"]


class StudentOutputs(NamedTuple):
    """A student's outputs for a batch: ``logits`` ``(n, K)``, ``feature`` ``(n, F)``, ``projection`` ``(n, D)``."""

    logits: torch.Tensor
    feature: torch.Tensor
    projection: torch.Tensor


def _conv_bn(n_in: int, n_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(n_out)]


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with BN, identity or 1x1-projection shortcut, ReLU after the sum."""

    def __init__(self, n_in: int, n_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv_bn(n_in, n_out, stride), nn.ReLU(inplace=True), *_conv_bn(n_out, n_out))
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or n_in != n_out:
            self.shortcut = nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False), nn.BatchNorm2d(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_in, H, W)`` -> ``(n, n_out, H / stride, W / stride)``."""
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet18Backbone(nn.Module):
    """ResNet-18 feature extractor for grey 48 x 48 faces, output ``(n, 8 * base_width)``."""

    def __init__(self, base_width: int = 64) -> None:
        super().__init__()
        widths = [base_width * m for m in (1, 2, 4, 8)]
        layers: list[nn.Module] = [*_conv_bn(1, widths[0]), nn.ReLU(inplace=True)]
        n_in = widths[0]
        for stage, width in enumerate(widths):
            stride = 1 if stage == 0 else 2
            layers += [BasicBlock(n_in, width, stride), BasicBlock(width, width, 1)]
            n_in = width
        self.body = nn.Sequential(*layers)
        self.out_dim = n_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 1, 48, 48)`` centred input -> ``(n, out_dim)`` global-average-pooled feature."""
        return self.body(x).mean(dim=(2, 3))


class SmallCNNBackbone(nn.Module):
    """Blocks of 3x3 conv, BN, ReLU with 2x2 max pooling between them, then global average pooling."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        if not widths or min(widths) < 1:
            raise ConfigError(f"student widths must be positive, got {widths}")
        layers: list[nn.Module] = []
        n_in = 1
        for i, width in enumerate(widths):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            layers += [*_conv_bn(n_in, width), nn.ReLU(inplace=True)]
            n_in = width
        self.body = nn.Sequential(*layers)
        self.out_dim = n_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 1, 48, 48)`` centred input -> ``(n, widths[-1])``."""
        return self.body(x).mean(dim=(2, 3))


class Student(nn.Module):
    """Backbone + expression classifier + projection head to the teacher's embedding size.

    Parameters
    ----------
    backbone
        Maps centred ``(n, 1, 48, 48)`` input to ``(n, backbone.out_dim)``.
    n_classes
        Expression classes.
    proj_dim
        Teacher embedding size (the prototype grid's ``embed_dim``).
    dropout
        Dropout on the feature before the classifier (training only).
    """

    def __init__(self, backbone: nn.Module, n_classes: int, proj_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        feature_dim = int(backbone.out_dim)
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(feature_dim, n_classes)
        self.projector = nn.Sequential(
            nn.Linear(feature_dim, feature_dim), nn.ReLU(inplace=True), nn.Linear(feature_dim, proj_dim)
        )

    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`~biosig.errors.DataError` unless ``x`` is ``(n, 1, 48, 48)``."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(f"student expects faces (n, 1, {IMAGE_SIZE}, {IMAGE_SIZE}) in [0, 1]; got {tuple(x.shape)}")

    def outputs(self, x: torch.Tensor) -> StudentOutputs:
        """Logits, feature and projection of faces ``(n, 1, 48, 48)`` in ``[0, 1]``."""
        self.check_input(x)
        feature = self.backbone((x - 0.5) / 0.25)
        return StudentOutputs(self.classifier(self.dropout(feature)), feature, self.projector(feature))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Expression logits ``(n, n_classes)`` of faces ``(n, 1, 48, 48)`` in ``[0, 1]``."""
        self.check_input(x)
        feature = self.backbone((x - 0.5) / 0.25)
        return self.classifier(self.dropout(feature))


def build_student(
    arch: Arch,
    n_classes: int,
    proj_dim: int,
    *,
    widths: tuple[int, ...] = (16, 32, 64, 128),
    base_width: int = 64,
    dropout: float = 0.0,
    seed: int = 0,
) -> Student:
    """A student with initial weights drawn from ``seed`` (the global torch RNG is left untouched).

    Raises
    ------
    ConfigError
        Unknown architecture or sizes below 1.
    """
    if n_classes < 2 or proj_dim < 1 or base_width < 1:
        raise ConfigError(f"student: n_classes={n_classes} (>= 2), proj_dim={proj_dim}, base_width={base_width} (>= 1)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch == "resnet18":
            backbone: nn.Module = ResNet18Backbone(base_width)
        elif arch == "small_cnn":
            backbone = SmallCNNBackbone(tuple(widths))
        else:
            raise ConfigError(f"student arch {arch!r} is not one of ['resnet18', 'small_cnn']")
        return Student(backbone, n_classes, proj_dim, dropout)
