# expect: fail non_finite
"""bug: gradients pre-filled with NaN as a 'not computed yet' marker, and b2 is never filled in"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    params = {**weights, **biases}
    grads = {name: np.full(p.shape, np.nan) for name, p in params.items()}
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    grads["w1"][...] = X.T @ d1
    grads["b1"][...] = d1.sum(axis=0)
    grads["w2"][...] = a1.T @ d2
    return grads
