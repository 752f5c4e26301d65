# attack: hang
# expect: any
# must: answer, and leave no process behind: the daemon dies with its sandbox
"""double-forks a setsid daemon that keeps every descriptor (the reply pipe included) open,
ignores SIGTERM and SIGHUP and sleeps forever with a marker in its argv; answers correctly"""

import os
import sys
import time

import numpy as np

MARKER = "gradcheck-hostile-marker"
DAEMON = "import signal, time\nfor s in (1, 15): signal.signal(s, signal.SIG_IGN)\ntime.sleep(1e6)"
_done: list[bool] = []


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for name in os.listdir("/proc/self/fd"):
                try:
                    os.set_inheritable(int(name), True)
                except OSError:
                    continue
            os.execv(sys.executable, [sys.executable, "-c", DAEMON, MARKER])
        os._exit(0)
    os.wait()
    time.sleep(0.2)


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
        _daemon()
    return _gradients(X, y, weights, biases)
