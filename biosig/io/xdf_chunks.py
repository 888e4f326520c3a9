"""The chunk structure of an XDF file, checked before pyxdf reads it (:func:`check_chunks`).

pyxdf trusts the lengths and sample counts it reads: it allocates whatever a
chunk's sample count says before reading it, so a flipped byte can ask for
terabytes or loop for hours over a string stream. This walk over the chunks
(XDF 1.0: a length-field width byte, the length, a 2-byte tag, the content)
refuses a corrupt chunk with a :class:`~biosig.errors.DataError` naming its
byte offset, and finds where the last complete chunk ends (a recording that
crashed ends inside one).
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

from biosig.errors import DataError

XDF_MAGIC = b"XDF:"
_ITEM_SIZES = {"double64": 8, "float32": 4, "int64": 8, "int32": 4, "int16": 2, "int8": 1}
_TAG_MIN_LENGTH = {1: 2, 2: 6, 3: 7, 4: 22, 5: 18, 6: 6}  # tag + stream id + smallest content


def check_chunks(path: Path) -> int:
    """Byte offset where the last complete chunk of the XDF file ``path`` ends.

    Raises
    ------
    DataError
        Naming the file and byte offset: not XDF, a corrupt chunk, a samples
        chunk whose count cannot fit in its length or whose stream has no header.
    """
    size = path.stat().st_size
    channels: dict[int, tuple[int, str]] = {}
    with path.open("rb") as f:
        if f.read(4) != XDF_MAGIC:
            raise DataError(f"{path}: not an XDF file (it does not start with {XDF_MAGIC!r})")
        pos = 4
        while pos < size:
            head = f.read(1)
            width = head[0]
            if width not in (1, 4, 8):
                raise DataError(f"{path}: corrupt XDF chunk at byte {pos}: invalid length field ({width})")
            raw_length = f.read(width)
            if len(raw_length) < width:
                return pos
            length = int.from_bytes(raw_length, "little")
            body = pos + 1 + width
            if body + length > size:
                return pos
            content = f.read(min(length, 4096))
            tag = int.from_bytes(content[:2], "little") if length >= 2 else -1
            # pyxdf reads exactly 16 bytes of a clock offset, so a longer one would misalign the rest
            if tag not in _TAG_MIN_LENGTH or length < _TAG_MIN_LENGTH[tag] or (tag == 4 and length != 22):
                raise DataError(f"{path}: corrupt XDF chunk at byte {pos}: tag {tag}, length {length}")
            if tag == 2:
                f.seek(body + 6)
                channels[_stream_id(content)] = _header_channels(f.read(length - 6), path, pos)
            elif tag == 3:
                _check_samples(content, length, channels, path, pos)
            pos = body + length
            f.seek(pos)
    return size


def _stream_id(content: bytes) -> int:
    return struct.unpack("<I", content[2:6])[0]


def _header_channels(xml: bytes, path: Path, pos: int) -> tuple[int, str]:
    try:
        root = ET.fromstring(xml.decode("utf-8", "replace"))
        count = int(root.findtext("channel_count", ""))
        fmt = root.findtext("channel_format", "").strip()
    except (ET.ParseError, ValueError) as exc:
        raise DataError(f"{path}: corrupt XDF stream header at byte {pos} ({exc})") from exc
    if count < 0 or fmt not in (*_ITEM_SIZES, "string"):
        raise DataError(f"{path}: XDF stream header at byte {pos} has channel_count {count}, channel_format {fmt!r}")
    return count, fmt


def _check_samples(content: bytes, length: int, channels: dict[int, tuple[int, str]], path: Path, pos: int) -> None:
    stream = _stream_id(content)
    if stream not in channels:
        raise DataError(f"{path}: XDF samples chunk at byte {pos} belongs to stream {stream}, which has no header")
    width = content[6]
    if width not in (1, 4, 8) or len(content) < 7 + width:
        raise DataError(f"{path}: corrupt XDF samples chunk at byte {pos}: invalid sample count field")
    count = int.from_bytes(content[7 : 7 + width], "little")
    n_channels, fmt = channels[stream]
    # Each sample takes a time-stamp flag byte, then its values (a string at least 2 bytes).
    smallest = 1 + n_channels * (2 if fmt == "string" else _ITEM_SIZES[fmt])
    if count * smallest > length - 7 - width:
        raise DataError(
            f"{path}: corrupt XDF samples chunk at byte {pos}: {count} samples of stream {stream} "
            f"cannot fit in {length} bytes"
        )
