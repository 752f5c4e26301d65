# expect: pass
"""correct, relu derivative taken as 1 at Z == 0 (>=), gradients through einsum, caches in dicts"""

import numpy as np


def sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z)), Z


def relu(Z):
    return Z * (Z >= 0), Z


def relu_backward(dA, Z):
    return dA * (Z >= 0)


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)[0]
    return dA * s * (1.0 - s)


def L_model_forward(X, parameters):
    n_layers = len(parameters) // 2
    A = X
    caches = []
    for l in range(1, n_layers + 1):
        W = parameters["W%d" % l]
        b = parameters["b%d" % l]
        Z = np.einsum("ij,jm->im", W, A) + b
        A_prev = A
        A, Z_cache = (sigmoid if l == n_layers else relu)(Z)
        caches.append({"A_prev": A_prev, "W": W, "b": b, "Z": Z_cache})
    return A, caches


def L_model_backward(AL, Y, caches):
    grads = {}
    m = Y.shape[1]
    dA = -(Y / AL) + (1 - Y) / (1 - AL)
    for l in range(len(caches), 0, -1):
        c = caches[l - 1]
        if l == len(caches):
            dZ = sigmoid_backward(dA, c["Z"])
        else:
            dZ = relu_backward(dA, c["Z"])
        grads["dW%d" % l] = np.einsum("im,jm->ij", dZ, c["A_prev"]) / m
        grads["db%d" % l] = np.einsum("im->i", dZ)[:, None] / m
        dA = np.einsum("ij,im->jm", c["W"], dZ)
    return grads
