# expect: error timeout
# timeout: 4
"""hostile: 'trains until the gradient stops changing', which never happens"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    previous = None
    step = 0
    while True:
        current = a1.T @ d2
        if previous is not None and np.abs(current - previous).max() < -1.0:
            break
        previous = current
        step += 1
    d1 = d2 @ weights["w2"].T * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
