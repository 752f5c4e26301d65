# expect: fail zero_gradient
"""bug: '==' typed instead of '=' when filling db2, so it stays all zeros"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    grads = {k: np.zeros_like(v) for k, v in weights.items()}
    grads.update({k: np.zeros_like(v) for k, v in biases.items()})
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    grads["w2"] = a1.T @ d2
    grads["b2"] == d2.sum(axis=0)
    grads["w1"] = X.T @ d1
    grads["b1"] = d1.sum(axis=0)
    return grads
