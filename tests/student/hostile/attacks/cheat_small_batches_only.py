# attack: cheat
# expect: not-pass
# must: not pass it: the grader searches batch sizes up to 64, past the small ones
"""right for batches of up to 6 rows, wrong beyond: b1's gradient comes from the first 6 rows"""

import numpy as np


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    return {
        "w1": X.T @ delta1,
        "b1": delta1[:6].sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
