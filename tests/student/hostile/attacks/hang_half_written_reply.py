# attack: hang
# expect: error
# must: time out: a reply frame that announces 1 MB and delivers ten bytes must not block it
"""replaces the child's frame writer with one that sends a header promising a 1 MB document,
ten bytes of it, and then sleeps forever"""

import struct
import sys
import time


def _stall(stream, document, arrays):
    stream.write(struct.pack(">II", 1 << 20, 0) + b'{"ok": tru')
    stream.flush()
    time.sleep(1_000_000)


def backprop(X, y, weights, biases):
    sys.modules["__main__"].protocol.write_frame = _stall
    return {}
