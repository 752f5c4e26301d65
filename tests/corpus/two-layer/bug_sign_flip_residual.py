# expect: fail sign_flip
"""bug: residual written as y - y_pred, so every gradient has the wrong sign"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    err = y - y_pred
    d1 = (err @ weights["w2"].T) * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ err, "b2": err.sum(axis=0)}
