# attack: escape
# expect: any
# must: leave the grader's source read-only and out of reach, wherever it lives
"""finds the grader's files via /proc/*/cmdline and __file__ guesses and opens them for writing"""

import glob
import os
import sys

import numpy as np

MARKER = "gradcheck-hostile-marker"
SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []


def _paths():
    paths = set()
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            with open(cmdline, "rb") as handle:
                args = handle.read().split(b"\0")
        except OSError:
            continue
        paths.update(a.decode(errors="replace") for a in args if a.startswith(b"/"))
    main = sys.modules.get("__main__")
    paths.update(
        str(getattr(module, "__file__", "") or "")
        for module in (main, getattr(main, "protocol", None), np)
    )
    for root in ("/work/*/gradcheck", "/work/*/.venv/lib/python3*/site-packages/gradcheck"):
        for folder in glob.glob(root):
            paths.update(glob.glob(os.path.join(folder, "**", "*.py"), recursive=True))
    return sorted(p for p in paths if p.startswith("/") and not p.startswith(("/proc", "/tmp")))


def _attack():
    opened = []
    for path in _paths():
        if os.path.isfile(path):
            try:  # opened for appending, nothing written: a success changes no byte
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            except OSError:
                pass
            else:
                opened.append(path)
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        planted = os.path.join(folder, f"hostile-planted-{MARKER}")
        try:
            with open(planted, "w") as handle:
                handle.write(MARKER)
        except OSError:
            continue
        os.remove(planted)
        opened.append(planted)
    return f"could write {opened[:20]}" if opened else ""


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
