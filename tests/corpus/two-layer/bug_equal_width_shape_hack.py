# expect: fail transposed
"""bug: dw1 built as (H, D) and 'fixed' by transposing on shape mismatch; stays transposed when D == H"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = sigmoid(X @ w1 + biases["b1"])
    y_pred = a1 @ w2 + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ w2.T * a1 * (1 - a1)
    dw1 = d1.T @ X
    if dw1.shape != w1.shape:
        dw1 = dw1.T
    return {"w1": dw1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}
