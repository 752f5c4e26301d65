# attack: escape
# expect: any
# must: keep every write inside the sandbox's private /tmp; the host's /tmp gains nothing
"""plants marked files in /tmp, /var/tmp, /dev/shm and every pytest folder it can find"""

import glob
import os

import numpy as np

MARKER = "gradcheck-hostile-marker"
SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []


def _plant(folder):
    path = os.path.join(folder, f"hostile-planted-{MARKER}")
    try:
        with open(path, "w") as handle:
            handle.write(MARKER)
    except OSError:
        return None
    return path


def _attack():
    folders = ["/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/tmp/.X11-unix"]
    for pattern in ("/tmp/pytest-of-*", "/tmp/pytest-of-*/*", "/tmp/pytest-of-*/*/*", "/tmp/*/"):
        folders += glob.glob(pattern)
    planted = [path for path in map(_plant, folders) if path]
    ours = {"stdout.txt", "stderr.txt", f"hostile-planted-{MARKER}"}
    foreign = sorted(set(os.listdir("/tmp")) - ours)
    outside = [path for path in planted if os.path.dirname(path) != "/tmp"]
    if foreign or outside:
        return f"the host's /tmp is visible ({foreign[:20]}) or written ({outside[:20]})"
    return ""


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
    if not _found:
        _found.append(_attack())
    if _found[0]:
        raise RuntimeError(f"{SUCCESS}: {_found[0]}")
    return _gradients(X, y, weights, biases)
