"""Loading untrusted pickles (DEAP ``.dat``, WESAD ``.pkl``) without running their code.

A pickle can name any importable callable and call it while loading
(``os.system``, ``builtins.eval``...), so files from the outside are never
given to :func:`pickle.load`. :class:`RestrictedUnpickler` resolves the few
globals that numpy arrays and plain Python data need from a fixed table and
refuses every other name with a :class:`~biosig.errors.DataError` naming the
file and the refused global, before anything is called. Numbers, strings,
bytes, lists, tuples, dicts, ``None`` and booleans need no global at all.

The allowed globals, by what writes them:

* numpy arrays, protocols 0-4: ``numpy.core.multiarray._reconstruct`` (numpy 1,
  Python 2 pickles), ``numpy._core.multiarray._reconstruct`` (numpy 2),
  ``numpy.ndarray``, ``numpy.dtype``; numpy scalars:
  ``numpy.core.multiarray.scalar`` / ``numpy._core.multiarray.scalar``;
* numpy arrays, protocol 5: ``numpy.core.numeric._frombuffer`` /
  ``numpy._core.numeric._frombuffer`` (a copy of the in-band buffer);
* Python 3 ``bytes`` at protocols 0-2: ``_codecs.encode(text, "latin1")``,
  resolved to a function that accepts only the latin-1 codec;
* containers and numbers without an opcode of their own: ``set``,
  ``frozenset``, ``complex``, ``bytearray``, ``bytes`` from ``builtins``
  (Python 3) or ``__builtin__`` (Python 2).

The names are resolved here, not imported from the pickle's text, so
numpy 2 reads numpy-1 and Python-2 pickles without touching the deprecated
``numpy.core`` package.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from biosig.errors import DataError

try:  # numpy >= 2 moved the pickle helpers to numpy._core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` limited to latin-1: how Python 3 pickles bytes at protocols 0-2."""
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"refused codec {encoding!r} in _codecs.encode (only latin-1)")
    return text.encode("latin-1", errors)


_NUMPY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
for _package in ("numpy.core", "numpy._core"):
    _NUMPY_GLOBALS[(f"{_package}.multiarray", "_reconstruct")] = _multiarray._reconstruct
    _NUMPY_GLOBALS[(f"{_package}.multiarray", "scalar")] = _multiarray.scalar
    _NUMPY_GLOBALS[(f"{_package}.numeric", "_frombuffer")] = _numeric._frombuffer

_BUILTIN_TYPES = {"set": set, "frozenset": frozenset, "complex": complex, "bytearray": bytearray, "bytes": bytes}

#: Every global a restricted pickle may name, ``(module, name) -> object``.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **_NUMPY_GLOBALS,
    ("_codecs", "encode"): _latin1_encode,
    **{(module, name): obj for module in ("builtins", "__builtin__") for name, obj in _BUILTIN_TYPES.items()},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays, numbers, strings and plain containers.

    Parameters
    ----------
    file
        Binary file object positioned at the pickle.
    source
        Name used in error messages (usually the file path).
    encoding
        How Python-2 ``str`` objects are decoded; ``"latin1"`` keeps numpy
        array buffers of Python-2 pickles byte for byte.
    """

    def __init__(self, file: io.BufferedIOBase, *, source: str, encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` from :data:`ALLOWED_GLOBALS`; anything else is a DataError."""
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.source}: refused to unpickle the global '{module}.{name}'; only numpy arrays, "
                "numbers, strings and plain containers are allowed in a data file (it may be malicious)"
            ) from None


def load_pickle(path: str | Path, *, encoding: str = "latin1") -> Any:
    """Load a pickle file through :class:`RestrictedUnpickler`.

    Parameters
    ----------
    path
        The file, e.g. DEAP's ``s01.dat`` or WESAD's ``S2.pkl``.
    encoding
        Decoding of Python-2 ``str`` objects (``"latin1"`` for numpy data).

    Returns
    -------
    object
        The unpickled data: numpy arrays, numbers, strings and containers.

    Raises
    ------
    DataError
        If the file is missing, truncated or not a pickle, or names a global
        outside :data:`ALLOWED_GLOBALS` (the message names the file and the global).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open("rb") as f:
        return _restricted_load(f, str(path), encoding)


def loads_pickle(data: bytes, *, source: str = "<bytes>", encoding: str = "latin1") -> Any:
    """:func:`load_pickle` for a pickle held in memory; ``source`` names it in errors."""
    return _restricted_load(io.BytesIO(data), source, encoding)


def _restricted_load(file: io.BufferedIOBase, source: str, encoding: str) -> Any:
    try:
        return RestrictedUnpickler(file, source=source, encoding=encoding).load()
    except DataError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # A corrupt stream fails inside pickle or numpy's __setstate__; the caller needs the file's name.
        raise DataError(f"{source}: not a readable pickle of numpy data ({type(exc).__name__}: {exc})") from None
