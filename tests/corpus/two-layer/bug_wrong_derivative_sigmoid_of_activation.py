# expect: fail wrong_activation_derivative
"""bug: sigmoid_prime is applied to the activation a1 instead of to z1"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def backprop(X, y, weights, biases):
    z1 = X @ weights["w1"] + biases["b1"]
    a1 = sigmoid(z1)
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * sigmoid_prime(a1)
    return {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}
