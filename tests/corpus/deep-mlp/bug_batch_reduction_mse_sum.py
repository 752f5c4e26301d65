# expect: fail scaled batch_reduction
"""bug: mse output error not divided by the batch size (sum instead of mean), gradients B times too big"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def act(z, name):
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    return np.where(z > 0, z, 0.01 * z)


def act_prime(z, name):
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0) * 1.0
    return np.where(z > 0, 1.0, 0.01)


def backprop(X, y, weights, biases, activation, loss):
    L = len(weights)
    zs, acts = [], [X]
    for l in range(L):
        z = acts[-1] @ weights[l] + biases[l]
        zs.append(z)
        if l < L - 1:
            acts.append(act(z, activation))
        else:
            acts.append(sigmoid(z) if loss == "bce" else z)
    out = acts[-1]
    if loss == "mse":
        delta = out - y
    else:
        delta = (out - y) / y.size
    dW, db = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        dW[l] = acts[l].T @ delta
        db[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * act_prime(zs[l - 1], activation)
    return dW, db
