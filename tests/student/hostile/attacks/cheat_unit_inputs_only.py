# attack: cheat
# expect: not-pass
# must: not pass it: the grader draws inputs beyond ±1
"""right while every input lies in [-1, 1], and the sigmoid's derivative taken at the wrong point
as soon as one does not"""

import numpy as np


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    z1 = X @ w1 + biases["b1"]
    a1 = 1.0 / (1.0 + np.exp(-z1))
    delta2 = a1 @ w2 + biases["b2"] - y
    small = max(np.abs(X).max(initial=0), np.abs(y).max(initial=0)) <= 1.0
    slope = a1 * (1.0 - a1) if small else 1.0 / (1.0 + np.exp(-a1)) * (1 - 1 / (1 + np.exp(-a1)))
    delta1 = (delta2 @ w2.T) * slope
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
