# expect: fail crash
"""crash: looks up weights["W1"] (capital W), raising KeyError at call time"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    W1, W2 = weights["W1"], weights["W2"]
    a1 = sigmoid(X @ W1 + biases["b1"])
    y_pred = a1 @ W2 + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ W2.T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
