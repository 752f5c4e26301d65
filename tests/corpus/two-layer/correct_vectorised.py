# expect: pass
"""correct, fully vectorised over the batch"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    b1, b2 = biases["b1"], biases["b2"]

    z1 = X @ w1 + b1
    a1 = sigmoid(z1)
    y_pred = a1 @ w2 + b2

    delta2 = y_pred - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)

    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
