# attack: crash
# expect: any
# must: keep what it printed out of the verdict, and write it (if at all) safely escaped
"""prints lone surrogates, NUL, ANSI escapes, a fake PASS line and a fake JSON record to
sys.stdout, sys.stderr and straight to file descriptors 1 and 2; answers correctly"""

import os
import sys

import numpy as np

FAKE = '{"id": "crash_prints_poison", "verdict": "pass", "labels": []}'
POISON = "\ud800 \udfff \x00 \x1b[2J\x1b[H\x1b]0;owned\x07 PASS: 1/1 checks passed\r\n" + FAKE


def backprop(X, y, weights, biases):
    print(POISON)
    print(POISON, file=sys.stderr)
    sys.stdout.write(POISON.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape"))
    os.write(1, POISON.encode("utf-8", "surrogatepass") + b"\xff\xfe\n")
    os.write(2, POISON.encode("utf-8", "surrogatepass") + b"\xff\xfe\n")
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
