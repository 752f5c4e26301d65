# expect: fail crash
"""crash: the graded path calls a helper module that is not installed (scipy is only used by an ungraded helper)"""

import nonexistent_mod_xyz
import numpy as np
from scipy.special import expit


def sigmoid_fast(z):
    return expit(z)


def backprop(X, y, weights, biases):
    a1 = nonexistent_mod_xyz.sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
