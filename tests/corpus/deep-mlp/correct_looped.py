# expect: pass
"""correct, one example at a time with 1-D vectors, gradients accumulated and then averaged"""

import math

import numpy as np


def f(z, kind):
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if kind == "tanh":
        return np.tanh(z)
    if kind == "relu":
        return z * (z > 0)
    return np.where(z > 0, z, 0.01 * z)


def f_prime(z, kind):
    if kind == "sigmoid":
        s = f(z, "sigmoid")
        return s * (1 - s)
    if kind == "tanh":
        t = np.tanh(z)
        return 1 - t * t
    if kind == "relu":
        return np.where(z > 0, 1.0, 0.0)
    return np.where(z > 0, 1.0, 0.01)


def backprop(X, y, weights, biases, activation, loss):
    depth = len(weights)
    batch = X.shape[0]
    dW = [np.zeros_like(w) for w in weights]
    db = [np.zeros_like(b) for b in biases]
    for n in range(batch):
        a_list = [X[n]]
        z_list = []
        for l in range(depth):
            z = a_list[-1] @ weights[l] + biases[l]
            z_list.append(z)
            if l < depth - 1:
                a_list.append(f(z, activation))
            elif loss == "bce":
                a_list.append(1 / (1 + np.exp(-z)))
            else:
                a_list.append(z)
        out = a_list[-1]
        if loss == "mse":
            d = out - y[n]
        else:
            d = (out - y[n]) / y.shape[1]
        for l in range(depth - 1, -1, -1):
            dW[l] += np.outer(a_list[l], d)
            db[l] += d
            if l > 0:
                d = (weights[l] @ d) * f_prime(z_list[l - 1], activation)
    scale = 1.0 / batch
    assert math.isfinite(scale)
    return [w * scale for w in dW], [b * scale for b in db]
