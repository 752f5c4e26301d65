# expect: pass
"""correct, vectorised forward/backward over any depth, all four activations and both losses"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def activate(z, name):
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    raise ValueError("unknown activation " + name)


def activate_prime(z, name):
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    raise ValueError("unknown activation " + name)


def backprop(X, y, weights, biases, activation, loss):
    n_layers = len(weights)
    a = X
    activations = [X]
    zs = []
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = a @ W + b
        zs.append(z)
        if i < n_layers - 1:
            a = activate(z, activation)
        elif loss == "bce":
            a = sigmoid(z)
        else:
            a = z
        activations.append(a)

    if loss == "mse":
        delta = (a - y) / X.shape[0]
    elif loss == "bce":
        delta = (a - y) / y.size
    else:
        raise ValueError("unknown loss " + loss)

    dW = [None] * n_layers
    db = [None] * n_layers
    for i in reversed(range(n_layers)):
        dW[i] = activations[i].T @ delta
        db[i] = delta.sum(axis=0)
        if i > 0:
            delta = (delta @ weights[i].T) * activate_prime(zs[i - 1], activation)
    return dW, db
