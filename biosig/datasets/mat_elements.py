"""Byte-offset index of a MATLAB v5 struct variable, to read one field or cell element without the rest.

:func:`scipy.io.loadmat` reads a variable whole: a 2-GB ``DREAMER.mat``
(one struct holding every subject) is parsed in full even when one subject
is wanted. A MATLAB v5 file stored *uncompressed* is a sequence of tagged
data elements, each saying its byte count, so the position of every field
of a struct and of every element of a cell can be found by reading the
tags alone (a few hundred bytes, seeks in between). :func:`struct_index`
returns those positions; :meth:`MatElement.read` then gives one element to
``loadmat`` as a small in-memory file, so the value is exactly what the full
parse holds at that place (same dtypes, shapes and struct layout).

Only plain little-endian v5 files whose variable is an uncompressed 1 x 1
struct are indexed; anything else (zlib-compressed variables, big-endian or
v7.3 files, a missing variable, a damaged tag) gives None, and the caller
falls back to :func:`scipy.io.loadmat` on the whole file (which also
produces its error messages).

Format: MathWorks, "MAT-File Format" (R2024a), chapter 1: a 128-byte header
ending in the endian indicator, then data elements with an 8-byte tag (type,
byte count) or a 4-byte "small" tag holding up to 4 bytes of data.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

_HEADER_BYTES = 128
_MI_INT8, _MI_INT32, _MI_UINT32, _MI_MATRIX = 1, 5, 6, 14
_MX_CELL, _MX_STRUCT = 1, 2
#: Name given to an element when it is read on its own (any valid MATLAB name).
_NAME = "x"
#: Bytes read first from an element: its tag, flags, dimensions and name fit (names are at most 63 characters).
_HEAD_BYTES = 256


class _Unsupported(Exception):
    """The file is not one this index handles; the caller reads it whole."""


@dataclass(frozen=True)
class MatElement:
    """One ``miMATRIX`` data element of a v5 file: its tag starts at byte ``offset``, ``size`` bytes in all."""

    path: Path
    offset: int
    size: int

    def read(self) -> Any:
        """The element's value as :func:`scipy.io.loadmat` (default options) gives it inside the whole file.

        Raises
        ------
        ValueError, OSError
            The file changed or is damaged (the bytes are not a readable element).
        """
        with open(self.path, "rb") as f:
            header = f.read(_HEADER_BYTES)
            f.seek(self.offset)
            head = f.read(min(self.size, _HEAD_BYTES))
            tag, name_end = _renamed_tag(head, self.size)
            rest = f.read(self.size - len(head))
        if len(head) + len(rest) != self.size:
            raise ValueError(f"{self.path}: truncated at byte {self.offset + len(head) + len(rest)}")
        # One join: a bytes object is shared, not copied, by BytesIO.
        mini = b"".join((header, tag, head[name_end:], rest))
        return scipy.io.loadmat(io.BytesIO(mini))[_NAME]


@dataclass(frozen=True)
class StructIndex:
    """Fields of a 1 x 1 struct variable, in the file's order, each as a :class:`MatElement`."""

    fields: dict[str, MatElement]

    def cell_elements(self, name: str) -> tuple[tuple[int, ...], list[MatElement]] | None:
        """Dimensions and elements (column-major) of the cell field ``name``; None if it is not a cell."""
        element = self.fields[name]
        with open(element.path, "rb") as f:
            try:
                return _cell_elements(f, element)
            except (_Unsupported, struct.error):
                return None


def struct_index(path: str | Path, variable: str) -> StructIndex | None:
    """Index the fields of ``variable``, a 1 x 1 struct, in a MATLAB v5 file; None when not indexable.

    Reads only tags: the header, each top-level element's tag and name, and
    the variable's field tags.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            header = f.read(_HEADER_BYTES)
            if len(header) < _HEADER_BYTES or header[126:128] != b"IM" or header[124:126] != b"\x00\x01":
                return None
            end = path.stat().st_size
            position = _HEADER_BYTES
            while position + 8 <= end:
                f.seek(position)
                kind, nbytes = struct.unpack("<II", f.read(8))
                if kind != _MI_MATRIX:
                    return None  # compressed (miCOMPRESSED) or unknown: read whole
                element = MatElement(path, position, 8 + nbytes)
                mx_class, dims, name, after = _matrix_header(f, element)
                if name == variable:
                    if mx_class != _MX_STRUCT or int(np.prod(dims)) != 1:
                        return None
                    return StructIndex(_struct_fields(f, element, after))
                position += 8 + nbytes
    except (OSError, struct.error, _Unsupported):
        return None
    return None


def _tag(f: io.BufferedReader) -> tuple[int, int, bytes | None]:
    """Type, byte count and, for a small element, its (up to 4) data bytes; leaves ``f`` after the tag."""
    first, second = struct.unpack("<II", f.read(8))
    if first >> 16:
        return first & 0xFFFF, first >> 16, struct.pack("<I", second)[: first >> 16]
    return first, second, None


def _read_sub(f: io.BufferedReader) -> tuple[int, bytes]:
    """One sub-element (type, data), ``f`` left at the next 8-byte boundary."""
    kind, nbytes, small = _tag(f)
    if small is not None:
        return kind, small
    data = f.read(nbytes)
    f.seek((-nbytes) % 8, io.SEEK_CUR)
    return kind, data


def _matrix_header(f: io.BufferedReader, element: MatElement) -> tuple[int, tuple[int, ...], str, int]:
    """Class, dimensions and name of a matrix element; the byte position after its name."""
    f.seek(element.offset + 8)
    kind, flags = _read_sub(f)
    if kind != _MI_UINT32 or len(flags) != 8:
        raise _Unsupported("array flags")
    kind, dims = _read_sub(f)
    if kind != _MI_INT32:
        raise _Unsupported("dimensions")
    _, name = _read_sub(f)
    return flags[0], struct.unpack(f"<{len(dims) // 4}i", dims), name.decode("latin-1"), f.tell()


def _struct_fields(f: io.BufferedReader, element: MatElement, after_name: int) -> dict[str, MatElement]:
    f.seek(after_name)
    _, length = _read_sub(f)
    width = struct.unpack("<i", length)[0]
    _, names = _read_sub(f)
    fields = [names[k : k + width].split(b"\0", 1)[0].decode("latin-1") for k in range(0, len(names), width)]
    out = {}
    for name in fields:
        out[name] = _next_matrix(f, element)
    return out


def _cell_elements(f: io.BufferedReader, element: MatElement) -> tuple[tuple[int, ...], list[MatElement]]:
    mx_class, dims, _, after = _matrix_header(f, element)
    if mx_class != _MX_CELL:
        raise _Unsupported("not a cell")
    f.seek(after)
    return dims, [_next_matrix(f, element) for _ in range(int(np.prod(dims)))]


def _next_matrix(f: io.BufferedReader, parent: MatElement) -> MatElement:
    """The ``miMATRIX`` element at ``f``'s position (inside ``parent``); ``f`` is left after it."""
    position = f.tell()
    kind, nbytes = struct.unpack("<II", f.read(8))
    if kind != _MI_MATRIX or nbytes == 0 or position + 8 + nbytes > parent.offset + parent.size:
        raise _Unsupported("cell or field element")
    f.seek(position + 8 + nbytes)
    return MatElement(parent.path, position, 8 + nbytes)


def _renamed_tag(head: bytes, size: int) -> tuple[bytes, int]:
    """A matrix element renamed :data:`_NAME`: its new tag, flags, dimensions and name, and where its old name ends.

    ``head`` is the element's first bytes (tag, flags, dimensions, name),
    ``size`` its whole length in bytes; its (usually empty) name is replaced.
    """
    position = 8
    for _ in range(2):  # array flags, dimensions
        nbytes = struct.unpack_from("<I", head, position + 4)[0]
        position += 8 + nbytes + (-nbytes) % 8
    first = struct.unpack_from("<I", head, position)[0]
    if first >> 16:
        name_end = position + 8
    else:
        nbytes = struct.unpack_from("<I", head, position + 4)[0]
        name_end = position + 8 + nbytes + (-nbytes) % 8
    if name_end > len(head):
        raise ValueError("matrix element header longer than expected")
    name = struct.pack("<HH4s", _MI_INT8, len(_NAME), _NAME.encode())
    n_payload = (position - 8) + len(name) + (size - name_end)
    return struct.pack("<II", _MI_MATRIX, n_payload) + head[8:position] + name, name_end
