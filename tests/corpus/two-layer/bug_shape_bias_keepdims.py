# expect: fail shape_mismatch
"""bug: bias gradients kept as (1, H) and (1, K) rows instead of (H,) and (K,)"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {
        "w1": X.T @ d1,
        "b1": np.sum(d1, axis=0, keepdims=True),
        "w2": a1.T @ d2,
        "b2": np.sum(d2, axis=0, keepdims=True),
    }
