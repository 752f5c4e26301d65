# expect: error memory_limit
# memory: 512
"""hostile: allocates a 100000 x 100000 float64 'cache' (80 GB) inside backprop"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    cache = np.ones((100000, 100000))
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y + 0 * cache[0, 0]
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
