# attack: cheat
# expect: not-pass
# must: not pass it: the grader tries many inputs, not one input twice
"""answers the first input right (both of the grader's calls on it), every later one wrong"""

import numpy as np

_first: list[bytes] = []


def backprop(X, y, weights, biases):
    key = X.tobytes() + y.tobytes() + weights["w1"].tobytes() + biases["b2"].tobytes()
    if not _first:
        _first.append(key)
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    if key != _first[0]:
        delta1 = delta2 @ w2.T  # the activation's derivative left out
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
