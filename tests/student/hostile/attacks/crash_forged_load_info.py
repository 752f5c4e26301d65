# attack: crash
# expect: any
# must: answer for it: what the child reports at load time (stubbed modules) is untrusted data
"""a class body, run while the module loads, that adds a number and a dict to the child's list
of stubbed modules, so that the load reply is not the list of names the grader expects;
answers correctly afterwards"""

import sys

import numpy as np


class _Loader:
    sys.modules["__main__"]._stubbed.extend([7, {"name": "x"}])


def backprop(X, y, weights, biases):
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
