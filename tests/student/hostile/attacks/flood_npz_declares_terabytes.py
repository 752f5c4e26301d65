# attack: flood
# expect: any
# must: answer for it, without a traceback: a 200-byte reply whose array header claims 7 TiB
"""replaces the child's frame writer with one whose npz holds an array header declaring 10**12
float64 entries (and no data), so that reading it makes the grader try to allocate 7.3 TiB"""

import io
import json
import struct
import sys
import zipfile

SHAPE = (10**12,)


def _npy_header(shape):
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _bomb(stream, document, arrays):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a0.npy", _npy_header(SHAPE))
    blob = buffer.getvalue()
    body = json.dumps({"ok": True, "result": {"$d": [["w1", {"$a": "a0"}]]}}).encode()
    stream.write(struct.pack(">II", len(body), len(blob)) + body + blob)
    stream.flush()


def backprop(X, y, weights, biases):
    sys.modules["__main__"].protocol.write_frame = _bomb
    return {}
