# expect: fail mutates_input
"""bug: gradients are right, but the function also takes an SGD step on the caller's weights in place"""

import numpy as np

LR = 0.1


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    grads = {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}
    weights["w1"] -= LR * grads["w1"]
    weights["w2"] -= LR * grads["w2"]
    biases["b1"] -= LR * grads["b1"]
    biases["b2"] -= LR * grads["b2"]
    return grads
