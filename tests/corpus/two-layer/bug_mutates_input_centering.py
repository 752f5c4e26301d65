# expect: fail mutates_input
"""bug: centres X in place (X -= X.mean(0)), changing the caller's array"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    X -= X.mean(axis=0)
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}
