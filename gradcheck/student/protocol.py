"""The wire format between the grader and a submission's child process: plain data only.

A message is a frame: an 8-byte header (two big-endian uint32: JSON length, NPZ length),
a JSON document and an ``.npz`` blob. Structures are encoded as JSON with tagged objects,
and arrays travel in the NPZ, read with ``allow_pickle=False``:

    ndarray            {"$a": "a0"}           (numeric or bool dtype; the NPZ key)
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
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "MAX_FRAME",
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
        blob = _read_exactly(stream, size_npz)
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except (ValueError, OSError) as error:
            raise ProtocolError(f"malformed arrays in a frame: {error}") from None
    return document, arrays


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}


def clean_text(text: str) -> str:
    """``text`` safe to print, write as UTF-8 and put in XML: a lone surrogate becomes its
    ``\\udXXX`` escape, and NUL, ESC and the other control characters (not tab, newline or
    carriage return) become ``\\xNN``."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").translate(_CONTROL)


def _clean(value: Any) -> Any:
    """Every string of a decoded JSON document, keys included, through ``clean_text``."""
    if isinstance(value, str):
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
        arrays[key] = np.ascontiguousarray(value)
        return {"$a": key}
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
    if "$a" in document:
        try:
            return arrays[document["$a"]]
        except (KeyError, TypeError):
            raise ProtocolError(f"missing array {document['$a']!r}") from None
    if "$t" in document:
        return tuple(decode(item, arrays, refs, _depth + 1) for item in document["$t"])
    if "$d" in document:
        return {str(k): decode(v, arrays, refs, _depth + 1) for k, v in document["$d"]}
    if "$f" in document:
        return float(document["$f"])
    if "$o" in document:
        return Opaque(document["$o"])
    if "$r" in document and refs is not None:
        return refs(document["$r"], document.get("path", []))
    raise ProtocolError(f"unexpected structure {str(document)[:80]!r}")
