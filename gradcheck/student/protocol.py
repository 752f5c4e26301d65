"""The wire format between the grader and a submission's child process: plain data only.

A message is a frame: an 8-byte header (two big-endian uint32: JSON length, NPZ length),
a JSON document and an ``.npz`` blob. Structures are encoded as JSON with tagged objects,
and arrays travel in the NPZ, read with ``allow_pickle=False``:

    ndarray            {"$a": "a0"}           (numeric or bool dtype; the NPZ key)
    masked array,      {"$a": "a0", "$s": "MaskedArray"}   (the data only, tagged so that
    np.matrix          the grader can name the type; decoded as ``ArraySubclass``)
    tuple              {"$t": [...]}
    dict               {"$d": [[key, value], ...]}   (string keys only)
    float NaN/±inf     {"$f": "nan"}
    anything else      {"$o": "TypeName"}     (opaque: it stays in the child)
    a stored value     {"$r": "slot", "path": [1, "key"]}   (requests only)

Nothing is ever unpickled. This module imports only the standard library and NumPy, because
the child loads it by path without importing the gradcheck package.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "MAX_FRAME",
    "SUBCLASSES",
    "ArraySubclass",
    "ProtocolError",
    "clean_text",
    "decode",
    "encode",
    "read_frame",
    "write_frame",
]

_HEADER = struct.Struct(">II")
MAX_FRAME = 64 * 1024 * 1024  # bytes; a larger frame is refused, not read
_MAX_DEPTH = 32
_MAX_ITEMS = 100_000


# The ndarray subclasses that travel tagged; any other subclass travels as a plain array.
SUBCLASSES = ("MaskedArray", "matrix")


class ProtocolError(Exception):
    """A malformed frame or structure."""


def write_frame(stream: BinaryIO, document: Any, arrays: dict[str, np.ndarray]) -> None:
    body = json.dumps(document, allow_nan=False).encode()
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        blob = buffer.getvalue()
    stream.write(_HEADER.pack(len(body), len(blob)) + body + blob)
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> tuple[Any, dict[str, np.ndarray]]:
    size_json, size_npz = _HEADER.unpack(_read_exactly(stream, _HEADER.size))
    if size_json + size_npz > MAX_FRAME:
        raise ProtocolError(f"a frame of {size_json + size_npz} bytes exceeds {MAX_FRAME}")
    try:
        document = _clean(json.loads(_read_exactly(stream, size_json)))
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"malformed JSON in a frame: {error}") from None
    arrays: dict[str, np.ndarray] = {}
    if size_npz:
        arrays = _read_arrays(_read_exactly(stream, size_npz))
    return document, arrays


def _read_arrays(blob: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` blob, each refused unless its header declares no more bytes
    than its member holds, and all together no more than MAX_FRAME: neither a header that
    claims terabytes nor a compressed member that inflates past the frame's cap gets the
    reader to allocate it."""
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for info in archive.infolist():
                total += info.file_size
                if total > MAX_FRAME:
                    raise ProtocolError(f"the arrays of a frame inflate past {MAX_FRAME} bytes")
                with archive.open(info) as member:
                    arrays[info.filename.removesuffix(".npy")] = _read_array(member, info)
    except ProtocolError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, MemoryError) as error:
        raise ProtocolError(f"malformed arrays in a frame: {type(error).__name__}") from None
    return arrays


def _read_array(member: Any, info: zipfile.ZipInfo) -> np.ndarray:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ProtocolError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ProtocolError("an array of Python objects in a frame")
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if shape else dtype.itemsize
    if declared > info.file_size:
        raise ProtocolError(f"an array header declares {declared} bytes; its member has fewer")
    data = member.read(declared)
    if len(data) != declared:
        raise ProtocolError("an array in a frame is cut short")
    array = np.frombuffer(data, dtype=dtype).copy()
    return array.reshape(shape, order="F" if fortran else "C")


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}
MAX_TEXT = 16 * 1024  # characters of one string from the child; the rest is cut


def clean_text(text: str) -> str:
    """``text`` safe to print, write as UTF-8 and put in XML: a lone surrogate becomes its
    ``\\udXXX`` escape, and NUL, ESC and the other control characters (not tab, newline or
    carriage return) become ``\\xNN``."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").translate(_CONTROL)


def _clean(value: Any) -> Any:
    """Every string of a decoded JSON document, keys included, through ``clean_text``, and
    cut to MAX_TEXT characters."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            value = value[:MAX_TEXT] + f" […{len(value) - MAX_TEXT} more characters]"
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v) for k, v in value.items()}
    return value


def encode(value: Any, arrays: dict[str, np.ndarray], _depth: int = 0) -> Any:
    """The JSON form of ``value``; its arrays are added to ``arrays``."""
    if _depth > _MAX_DEPTH:
        return {"$o": "nested too deeply"}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"$o": "int (too large)"}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            return {"$o": f"ndarray[{value.dtype}]"}
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(np.ma.getdata(value))
        subclass = _subclass(value)
        return {"$a": key} if subclass is None else {"$a": key, "$s": subclass}
    if isinstance(value, list | tuple):
        if len(value) > _MAX_ITEMS:
            return {"$o": f"{type(value).__name__} of {len(value)} items"}
        items = [encode(item, arrays, _depth + 1) for item in value]
        return items if isinstance(value, list) else {"$t": items}
    if isinstance(value, dict):
        if len(value) > _MAX_ITEMS or not all(isinstance(key, str) for key in value):
            return {"$o": "dict with non-string keys"}
        return {"$d": [[key, encode(item, arrays, _depth + 1)] for key, item in value.items()]}
    return {"$o": type(value).__name__}


def _subclass(value: np.ndarray) -> str | None:
    if isinstance(value, np.ma.MaskedArray):
        return "MaskedArray"
    if isinstance(value, np.matrix):
        return "matrix"
    return None


class ArraySubclass:
    """An array that was returned as an ndarray subclass (``kind``, one of SUBCLASSES):
    its plain data, kept apart so that the grader can say which type came back.
    ``np.asarray`` of it is the data."""

    def __init__(self, kind: str, array: np.ndarray) -> None:
        self.kind, self.array = kind, array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array if dtype is None else self.array.astype(dtype)

    def __repr__(self) -> str:
        return f"<{self.kind} of shape {self.array.shape}>"


class Opaque:
    """A value that could not cross the boundary; only its type name did."""

    def __init__(self, type_name: str) -> None:
        self.type_name = str(type_name)

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def decode(document: Any, arrays: dict[str, np.ndarray], refs: Any = None, _depth: int = 0) -> Any:
    """The value that :func:`encode` encoded. ``refs(slot, path)`` resolves ``$r`` tags."""
    if _depth > _MAX_DEPTH + 1:
        raise ProtocolError("structure nested too deeply")
    if document is None or isinstance(document, bool | int | float | str):
        return document
    if isinstance(document, list):
        return [decode(item, arrays, refs, _depth + 1) for item in document]
    if not isinstance(document, dict) or len(document) not in (1, 2):
        raise ProtocolError(f"unexpected structure {str(document)[:80]!r}")
    try:
        return _decode_tagged(document, arrays, refs, _depth)
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError) as error:  # a forged or broken structure
        raise ProtocolError(f"unexpected structure {str(document)[:80]!r}: {error}") from None


def _decode_tagged(document: dict[str, Any], arrays: Any, refs: Any, _depth: int) -> Any:
    if "$a" in document:
        if document["$a"] not in arrays:
            raise ProtocolError(f"missing array {str(document['$a'])[:80]!r}")
        if len(document) == 1:
            return arrays[document["$a"]]
        if document.get("$s") not in SUBCLASSES:
            raise ProtocolError(f"unexpected structure {str(document)[:80]!r}")
        return ArraySubclass(str(document["$s"]), arrays[document["$a"]])
    if "$t" in document:
        return tuple(decode(item, arrays, refs, _depth + 1) for item in document["$t"])
    if "$d" in document:
        return {str(k): decode(v, arrays, refs, _depth + 1) for k, v in document["$d"]}
    if "$f" in document:
        if document["$f"] not in ("nan", "inf", "-inf"):
            raise ProtocolError(f"unexpected float {str(document['$f'])[:80]!r}")
        return float(document["$f"])
    if "$o" in document:
        return Opaque(str(document["$o"]))
    if "$r" in document and refs is not None:
        return refs(document["$r"], document.get("path", []))
    raise ProtocolError(f"unexpected structure {str(document)[:80]!r}")
