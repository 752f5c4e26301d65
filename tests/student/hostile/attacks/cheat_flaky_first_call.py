# attack: cheat
# expect: not-pass
# must: not pass it: the grader calls more than once and compares the calls
"""returns the right gradient on its very first call and 1.5 times it on every later call"""

import numpy as np

_calls = [0]


def backprop(X, y, weights, biases):
    _calls[0] += 1
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    factor = 1.0 if _calls[0] == 1 else 1.5
    return {
        "w1": factor * (X.T @ delta1),
        "b1": factor * delta1.sum(axis=0),
        "w2": factor * (a1.T @ delta2),
        "b2": factor * delta2.sum(axis=0),
    }
