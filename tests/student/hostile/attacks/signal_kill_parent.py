# attack: signal
# expect: any
# must: answer as usual: the grader is out of the submission's reach, in another pid namespace
"""sends SIGSTOP, SIGTERM and SIGKILL to its parent, the parent's process group and session,
then answers correctly"""

import contextlib
import os
import signal

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_done: list[bool] = []


def _attack():
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    parent = os.getppid()
    if parent != 1 or len(pids) > 40:  # not a pid namespace of its own: do no harm, say so
        raise RuntimeError(f"{SUCCESS}: no pid namespace (ppid {parent}, {len(pids)} pids)")
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(OSError):
            os.kill(parent, sig)
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(parent), sig)
        with contextlib.suppress(OSError):
            os.killpg(os.getsid(parent), sig)


def _gradients(X, y, weights, biases):
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


def backprop(X, y, weights, biases):
    if not _done:
        _done.append(True)
        _attack()
    return _gradients(X, y, weights, biases)
