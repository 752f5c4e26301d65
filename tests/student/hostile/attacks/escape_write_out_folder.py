# attack: escape
# expect: any
# must: give the submission no way to reach the grader's --out folder
"""guesses the grader's --out folder (pytest folders, cwd and its parents) and plants files in it"""

import glob
import os

import numpy as np

MARKER = "gradcheck-hostile-marker"
SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []


def _candidates():
    folders = set()
    for pattern in (
        "/tmp/pytest-of-*/pytest-*/*/out*",
        "/tmp/pytest-of-*/pytest-*/*/*/out*",
        "/tmp/*/out*",
        "/work/*/out*",
        "/work/*/reports",
        "/root/out*",
        "/home/*/out*",
    ):
        folders.update(glob.glob(pattern))
    here = os.getcwd()
    while True:
        folders.update({here, os.path.join(here, "out"), os.path.join(here, "reports")})
        if here == "/":
            break
        here = os.path.dirname(here)
    for folder in list(folders):
        if os.path.isdir(folder):
            folders.update(os.path.join(folder, name) for name in os.listdir(folder))
    return sorted(f for f in folders if os.path.isdir(f) and not f.startswith(("/proc", "/tmp")))


def _attack():
    written = []
    for folder in _candidates():
        path = os.path.join(folder, f"hostile-planted-{MARKER}")
        try:
            with open(path, "w") as handle:
                handle.write(MARKER)
        except OSError:
            continue
        written.append(path)
        results = os.path.join(folder, "results.jsonl")
        if os.path.exists(results):
            written.append(f"found {results}")
    return f"wrote {written[:20]}" if written else ""


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
