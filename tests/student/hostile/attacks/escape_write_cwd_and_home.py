# attack: escape
# expect: any
# must: make nothing but the private /tmp writable: not the cwd's parents, $HOME, / or /sandbox
"""plants files in its cwd's parents, $HOME, /, /sandbox, /usr, /root and over its own source"""

import os

import numpy as np

MARKER = "gradcheck-hostile-marker"
SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []


def _attack():
    folders = {"/", "/sandbox", "/sandbox/site", "/usr", "/usr/lib", "/root", "/home", "/etc"}
    folders.add(os.path.expanduser("~"))
    here = os.path.realpath(os.getcwd())
    while here != "/":
        here = os.path.dirname(here)
        folders.add(here)
    written = []
    for folder in sorted(folders):
        if folder == "/tmp":
            continue
        path = os.path.join(folder, f"hostile-planted-{MARKER}")
        try:
            with open(path, "w") as handle:
                handle.write(MARKER)
        except OSError:
            continue
        os.remove(path)
        written.append(path)
    for path in ("/sandbox/submission.py", "/sandbox/child.py", "/sandbox/protocol.py"):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        except OSError:
            continue
        written.append(path)
    return f"could write {written}" if written else ""


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
