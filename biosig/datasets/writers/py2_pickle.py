"""Python-2 protocol-2 pickles written from Python 3: the format of DEAP's ``.dat`` and WESAD's ``.pkl`` files."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def write_py2_pickle(subject: Mapping[str, Any], path: str | Path) -> Path:
    """Write a subject dict as a Python-2 protocol-2 pickle (DEAP's and WESAD's format)."""
    path = Path(path)
    path.write_bytes(py2_pickle_dumps(dict(subject)))
    return path


def py2_pickle_dumps(obj: Any) -> bytes:
    """Pickle ``obj`` as Python 2's ``cPickle.dumps(obj, 2)`` with numpy 1.x would.

    Python 3 cannot write Python 2's byte-string opcodes (``str`` in Python 2
    is bytes), so this small writer emits them by hand: ``str`` and ``bytes``
    as ``SHORT_BINSTRING``/``BINSTRING``, numpy arrays as
    ``numpy.core.multiarray._reconstruct`` + ``BUILD`` with the raw buffer as a
    byte string, dtypes as ``numpy.dtype`` + ``BUILD``. Supported: None, bool,
    int, float, str, bytes, tuple, list, dict and numpy arrays of non-object
    dtypes. Loading needs ``encoding="latin1"``, as for the real files.
    """
    out = bytearray(b"\x80\x02")
    _emit_py2(obj, out)
    out += b"."
    return bytes(out)


def _emit_py2(obj: Any, out: bytearray) -> None:
    if obj is None:
        out += b"N"
    elif isinstance(obj, (bool, np.bool_)):
        out += b"\x88" if obj else b"\x89"
    elif isinstance(obj, (int, np.integer)):
        value = int(obj)
        if -(2**31) <= value < 2**31:
            out += b"J" + struct.pack("<i", value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            out += b"\x8a" + bytes([len(raw)]) + raw
    elif isinstance(obj, (float, np.floating)):
        out += b"G" + struct.pack(">d", float(obj))
    elif isinstance(obj, (str, bytes)):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        out += (b"U" + bytes([len(raw)])) if len(raw) < 256 else (b"T" + struct.pack("<i", len(raw)))
        out += raw
    elif isinstance(obj, tuple):
        if not obj:
            out += b")"
            return
        if len(obj) > 3:
            out += b"("
        for item in obj:
            _emit_py2(item, out)
        out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(obj), b"t")
    elif isinstance(obj, list):
        out += b"]"
        if obj:
            out += b"("
            for item in obj:
                _emit_py2(item, out)
            out += b"e"
    elif isinstance(obj, dict):
        out += b"}"
        if obj:
            out += b"("
            for key, value in obj.items():
                _emit_py2(key, out)
                _emit_py2(value, out)
            out += b"u"
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        _, _, state = obj.__reduce__()
        out += b"cnumpy.core.multiarray\n_reconstruct\n"
        out += b"cnumpy\nndarray\n"
        _emit_py2((0,), out)
        _emit_py2(b"b", out)
        out += b"\x87R"
        _emit_py2(state, out)
        out += b"b"
    elif isinstance(obj, np.dtype):
        _, (name, align, copy), state = obj.__reduce__()
        out += b"cnumpy\ndtype\n"
        _emit_py2((name, int(align), int(copy)), out)
        out += b"R"
        _emit_py2(state, out)
        out += b"b"
    else:
        raise TypeError(f"py2_pickle_dumps cannot write {type(obj).__name__}")
