"""ONNX export of a trained student, checked against ONNX Runtime.

The exported graph is :meth:`graphs.distill.students.Student.forward`: input
``faces`` ``(batch, 1, 48, 48)`` float32 grey levels in ``[0, 1]`` (any batch
size), output ``logits`` ``(batch, n_classes)``; apply a softmax for
probabilities. It is written with :func:`torch.onnx.export`'s default
``torch.export``-based exporter (which needs ``onnxscript``), in eval mode.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from biosig.optional import require

from .students import IMAGE_SIZE, Student

INPUT_NAME = "faces"
OUTPUT_NAME = "logits"


def export_onnx(model: Student, path: str | Path, opset: int = 18) -> Path:
    """Write ``model`` (eval mode) as ONNX with a dynamic batch axis; returns the path."""
    require("onnxscript", "distill", "ONNX export (torch.onnx.export)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    example = torch.zeros(2, 1, IMAGE_SIZE, IMAGE_SIZE)
    batch = torch.export.Dim("batch", min=1)
    # the exporter prints progress on stdout and logs that torchvision's ops are not registered
    # (no torchvision here, none of its ops is used); the report says what was written
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                model,
                (example,),
                str(path),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"x": {0: batch}},
                opset_version=opset,
                dynamo=True,
                external_data=False,
            )
    finally:
        registration.setLevel(level)
    return path


def onnx_logits(path: str | Path, faces: np.ndarray) -> np.ndarray:
    """Logits ``(n, n_classes)`` of faces ``(n, 1, 48, 48)`` float32 from ONNX Runtime (CPU)."""
    ort = require("onnxruntime", "distill", "checking the ONNX export with ONNX Runtime")

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(faces, dtype=np.float32)})[0]


def compare_with_torch(model: Student, path: str | Path, faces: np.ndarray) -> float:
    """Largest absolute difference between torch's and ONNX Runtime's logits on ``faces`` ``(n, 1, 48, 48)``."""
    model = model.eval().cpu()
    with torch.no_grad():
        expected = model(torch.as_tensor(faces, dtype=torch.float32)).numpy()
    return float(np.abs(onnx_logits(path, faces) - expected).max())
