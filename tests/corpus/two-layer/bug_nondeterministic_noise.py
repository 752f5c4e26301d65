# expect: fail nondeterministic
"""bug: adds fresh random 'regularising' noise to every gradient on each call"""

import numpy as np

NOISE = 0.05


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    rng = np.random.default_rng()
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    grads = {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}
    return {k: g + NOISE * rng.standard_normal(g.shape) for k, g in grads.items()}
