# attack: flood
# expect: any
# must: survive 200 MB written straight to descriptors 1 and 2 (the child's stdout and stderr)
"""writes 200 MB to file descriptor 1 and 200 MB to file descriptor 2 with os.write, bypassing
sys.stdout; answers correctly"""

import contextlib
import os

import numpy as np

_written: list[bool] = []


def backprop(X, y, weights, biases):
    if not _written:
        _written.append(True)
        chunk = b"MemoryError flood " * (1 << 16)
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                for _ in range(200 * (1 << 20) // len(chunk)):
                    os.write(fd, chunk)
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
