# attack: cheat
# expect: not-pass
# must: not pass it: the grader tries different values with the same shapes
"""computes the gradient once per combination of shapes and returns that stale answer for every
later input of the same shapes"""

import numpy as np

_cache: dict[tuple, dict] = {}


def backprop(X, y, weights, biases):
    key = (X.shape, y.shape, weights["w1"].shape, weights["w2"].shape)
    if key not in _cache:
        w1, w2 = weights["w1"], weights["w2"]
        a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
        delta2 = a1 @ w2 + biases["b2"] - y
        delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
        _cache[key] = {
            "w1": X.T @ delta1,
            "b1": delta1.sum(axis=0),
            "w2": a1.T @ delta2,
            "b2": delta2.sum(axis=0),
        }
    return {k: v.copy() for k, v in _cache[key].items()}
