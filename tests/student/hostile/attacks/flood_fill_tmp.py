# attack: flood
# expect: any
# must: cap the sandbox's /tmp, so that filling it costs the host nothing; then grade as usual
"""fills /tmp with 1 MB files until the file system says no, then answers correctly"""

import numpy as np

_filled: list[int] = []


def _fill():
    chunk = b"\0" * (1 << 20)
    count = 0
    try:
        while count < 1024:
            with open(f"/tmp/fill-{count}", "wb") as handle:
                handle.write(chunk)
            count += 1
    except OSError:
        pass
    return count


def backprop(X, y, weights, biases):
    if not _filled:
        _filled.append(_fill())
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
