# expect: fail bad_return
"""bug: the returned dict has no "b2" key (bias gradient of the output layer forgotten)"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2}
