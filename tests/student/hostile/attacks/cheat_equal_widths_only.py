# attack: cheat
# expect: not-pass
# must: not pass it: the grader draws unequal widths as well as equal ones
"""right when input and hidden widths are equal; otherwise it returns w1's gradient computed
through a transposed weight matrix, padded to the right shape"""

import numpy as np


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    g1 = X.T @ delta1
    if w1.shape[0] != w1.shape[1]:
        g1 = np.zeros_like(w1)
        size = min(w1.shape)
        g1[:size, :size] = (X.T @ delta1)[:size, :size].T
    return {
        "w1": g1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
