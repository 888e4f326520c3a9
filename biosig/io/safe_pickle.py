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

Memory. Refusing code is not enough: ``numpy.ndarray((2, 40, 10**6), "f8")``
in a 300-byte file allocates 610 MiB. So nothing is allocated from a size the
file merely declares:

* ``numpy.ndarray`` resolves to a stand-in that cannot be called (nor used
  with ``NEWOBJ``); it is accepted only as the first argument of
  ``_reconstruct``, which must be numpy's own ``(ndarray, (0,), dtype)``. The
  array's size then comes from its ``BUILD`` state ``(version, shape, dtype,
  is_fortran, data)``, which is checked before numpy sees it: object dtypes
  are refused (numpy allocates those from the shape alone), and with an
  :class:`ArrayBudget` (the dataset's documented shapes) so is any array
  above ``max_array_bytes`` or a file whose arrays add up to more than
  ``max_total_bytes``. Protocol-5 ``_frombuffer`` arrays count the same way.
* ``bytes(n)`` and ``bytearray(n)`` with an integer are refused.
* Every read is bounded by what is left of the file, so a string opcode that
  declares 2 GB in a small file is a truncated pickle, not a 2 GB buffer.

The BUILD check needs a hook the C unpickler does not offer, so
:class:`RestrictedUnpickler` derives from the pure-Python one
(``pickle._Unpickler``); the data files hold a few large strings rather
than many small objects, so its per-opcode cost is small there (not measured
on full-size files).
"""

from __future__ import annotations

import io
import math
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from biosig.errors import DataError

try:  # numpy >= 2 moved the pickle helpers to numpy._core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


@dataclass(frozen=True)
class ArrayBudget:
    """The most array memory a data file may declare, from its dataset's documented shapes.

    Parameters
    ----------
    max_array_bytes
        Largest single array, bytes (shape x item size, as declared).
    max_total_bytes
        All arrays of the file together, bytes.
    what
        The documented shapes, quoted in the refusal (e.g. ``"DEAP: data 40 x 40 x 8064, labels 40 x 4"``).
    """

    max_array_bytes: int
    max_total_bytes: int
    what: str


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` limited to latin-1: how Python 3 pickles bytes at protocols 0-2."""
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"refused codec {encoding!r} in _codecs.encode (only latin-1)")
    return text.encode("latin-1", errors)


def _no_count(kind: type) -> Callable[..., Any]:
    """``bytes``/``bytearray`` without the integer form, which allocates that many zero bytes."""

    def build(*args: Any) -> Any:
        if args and isinstance(args[0], int):
            raise pickle.UnpicklingError(f"refused {kind.__name__}({args[0]}): a size, not data")
        return kind(*args)

    return build


class _NdarrayName:
    """What ``numpy.ndarray`` resolves to: a marker for ``_reconstruct``, never a constructor."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise pickle.UnpicklingError(
            f"refused the call numpy.ndarray{args!r}: arrays are only rebuilt through numpy's "
            "_reconstruct and their state (a direct call allocates the declared shape at once)"
        )


_NDARRAY = _NdarrayName()


def _dtype(*args: Any) -> np.dtype:
    """``numpy.dtype`` without object (Python reference) fields."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refused the object dtype {dtype}: only numeric and text arrays")
    return dtype


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct``, only as numpy writes it: ``(ndarray, (0,), typecode)``."""
    if subtype is not _NDARRAY or tuple(shape) != (0,):
        raise pickle.UnpicklingError(
            f"refused _reconstruct({subtype!r}, {shape!r}, ...): numpy writes (ndarray, (0,), typecode)"
        )
    return _multiarray._reconstruct(np.ndarray, (0,), dtype)


_BUILTIN_TYPES = {"set": set, "frozenset": frozenset, "complex": complex}

#: Every global a restricted pickle may name, ``(module, name) -> object`` (``_frombuffer`` is counted per file).
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    **{(module, name): obj for module in ("builtins", "__builtin__") for name, obj in _BUILTIN_TYPES.items()},
    **{(module, kind.__name__): _no_count(kind) for module in ("builtins", "__builtin__") for kind in (bytes, bytearray)},
}
for _package in ("numpy.core", "numpy._core"):
    ALLOWED_GLOBALS[(f"{_package}.multiarray", "_reconstruct")] = _reconstruct
    ALLOWED_GLOBALS[(f"{_package}.multiarray", "scalar")] = _multiarray.scalar
    ALLOWED_GLOBALS[(f"{_package}.numeric", "_frombuffer")] = _numeric._frombuffer


class _BoundedReader:
    """A binary file whose reads may not ask for more than is left, so declared lengths allocate nothing."""

    def __init__(self, file: io.BufferedIOBase, size: int) -> None:
        self._file = file
        self._left = size

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (the rest if negative); ``n`` beyond the end is a truncated pickle."""
        if n < 0:
            n = self._left
        elif n > self._left and not (n == 1 and self._left == 0):  # read(1) at the end is how load() stops
            raise pickle.UnpicklingError(f"pickle data was truncated: it declares {n} bytes, {self._left} remain")
        data = self._file.read(n)
        self._left -= len(data)
        return data

    def readline(self) -> bytes:
        """One line, as the text opcodes read it."""
        line = self._file.readline()
        self._left -= len(line)
        return line


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that only rebuilds numpy arrays, numbers, strings and plain containers, within a budget.

    Parameters
    ----------
    file
        Binary file object positioned at the pickle.
    source
        Name used in error messages (usually the file path).
    encoding
        How Python-2 ``str`` objects are decoded; ``"latin1"`` keeps numpy
        array buffers of Python-2 pickles byte for byte.
    size
        Bytes from the position to the end of the pickle; no read may ask for more.
    budget
        Array memory the file may declare (module docstring); unbounded when None.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(
        self,
        file: io.BufferedIOBase,
        *,
        source: str,
        encoding: str = "latin1",
        size: int,
        budget: ArrayBudget | None = None,
    ) -> None:
        super().__init__(_BoundedReader(file, size), encoding=encoding)
        self.source = source
        self.budget = budget
        self._array_bytes = 0

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` from :data:`ALLOWED_GLOBALS`; anything else is a DataError."""
        try:
            found = ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.source}: refused to unpickle the global '{module}.{name}'; only numpy arrays, "
                "numbers, strings and plain containers are allowed in a data file (it may be malicious)"
            ) from None
        return self._frombuffer if found is _numeric._frombuffer else found

    def _frombuffer(self, buffer: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
        """numpy's protocol-5 ``_frombuffer``, counted against the budget."""
        self._charge(tuple(shape), np.dtype(dtype))
        return _numeric._frombuffer(buffer, dtype, shape, order)

    def _charge(self, shape: tuple, dtype: np.dtype) -> None:
        """Count an array's declared bytes; refuse objects, bad shapes and anything over the budget."""
        if dtype.hasobject:
            raise pickle.UnpicklingError(f"refused an array of object dtype {dtype}: only numeric and text arrays")
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"array shape {shape!r} is not a tuple of sizes")
        nbytes = math.prod(shape) * dtype.itemsize
        self._array_bytes += nbytes
        budget = self.budget
        if budget is not None and (nbytes > budget.max_array_bytes or self._array_bytes > budget.max_total_bytes):
            raise DataError(
                f"{self.source}: refused a numpy array of shape {shape} and dtype {dtype} ({nbytes} bytes, "
                f"{self._array_bytes} bytes of arrays so far): larger than the real files hold "
                f"({budget.what}; at most {budget.max_array_bytes} bytes per array, {budget.max_total_bytes} in all)"
            )

    def load_build(self) -> None:
        """BUILD: an array's state is checked (shape, dtype, budget) before numpy allocates anything."""
        state, inst = self.stack[-1], self.stack[-2]
        if type(inst) is np.ndarray:
            if not (isinstance(state, tuple) and len(state) in (4, 5)):
                raise pickle.UnpicklingError(f"malformed numpy array state of type {type(state).__name__}")
            shape, dtype = state[-4], state[-3]
            if not (isinstance(shape, tuple) and isinstance(dtype, np.dtype)):
                raise pickle.UnpicklingError("malformed numpy array state: no (shape, dtype)")
            self._charge(shape, dtype)
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build


def load_pickle(path: str | Path, *, encoding: str = "latin1", budget: ArrayBudget | None = None) -> Any:
    """Load a pickle file through :class:`RestrictedUnpickler`.

    Parameters
    ----------
    path
        The file, e.g. DEAP's ``s01.dat`` or WESAD's ``S2.pkl``.
    encoding
        Decoding of Python-2 ``str`` objects (``"latin1"`` for numpy data).
    budget
        Largest arrays the file may declare (the dataset's documented
        shapes); only the structural limits of the module docstring when None.

    Returns
    -------
    object
        The unpickled data: numpy arrays, numbers, strings and containers.

    Raises
    ------
    DataError
        If the file is missing, truncated or not a pickle, names a global
        outside :data:`ALLOWED_GLOBALS`, or declares arrays beyond ``budget``
        or in a form numpy does not write (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open("rb") as f:
        return _restricted_load(f, path.stat().st_size, str(path), encoding, budget)


def loads_pickle(
    data: bytes, *, source: str = "<bytes>", encoding: str = "latin1", budget: ArrayBudget | None = None
) -> Any:
    """:func:`load_pickle` for a pickle held in memory; ``source`` names it in errors."""
    return _restricted_load(io.BytesIO(data), len(data), source, encoding, budget)


def _restricted_load(
    file: io.BufferedIOBase, size: int, source: str, encoding: str, budget: ArrayBudget | None
) -> Any:
    try:
        return RestrictedUnpickler(file, source=source, encoding=encoding, size=size, budget=budget).load()
    except DataError:
        raise
    except (
        pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, struct.error,
    ) as exc:  # fmt: skip
        # A corrupt stream fails inside pickle or numpy's __setstate__; the caller needs the file's name.
        raise DataError(f"{source}: not a readable pickle of numpy data ({type(exc).__name__}: {exc})") from None
