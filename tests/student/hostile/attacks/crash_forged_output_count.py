# attack: crash
# expect: any
# must: answer for it: the child's own bookkeeping (output counts) is not to be trusted
"""sets the child's count of printed characters to a word, so that its next reply says
"output_total": "lots"; answers correctly"""

import sys

import numpy as np


def backprop(X, y, weights, biases):
    sys.stdout.total = "lots"
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
