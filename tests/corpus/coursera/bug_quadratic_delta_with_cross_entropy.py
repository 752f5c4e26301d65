# expect: fail wrong_activation_derivative
"""bug: the cost is cross-entropy, but the output's dAL is written as AL - Y (the quadratic
cost's derivative) and then sent through sigmoid_backward, so dZ = (AL - Y)·σ'(Z) instead of
AL - Y. Before the cost mutants this got no diagnosis at all; the 'sigmoid′ left out' mutant
is its mirror image (dZ = dAL without σ′)."""

import numpy as np

# quick sanity numbers from the notebook, left in
print("layer dims:", [2, 3, 1])


def sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0.0, Z), Z


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        W = parameters["W" + str(l)]
        b = parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        linear_cache = (A, W, b)
        if l < L:
            A, activation_cache = relu(Z)
        else:
            A, activation_cache = sigmoid(Z)
        caches.append((linear_cache, activation_cache))
    return A, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(np.squeeze(-(1.0 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))))


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    Y = Y.reshape(AL.shape)
    dA = AL - Y  # derivative of the cost (?)
    for l in reversed(range(1, L + 1)):
        (A_prev, W, b), Z = caches[l - 1]
        if l == L:
            s = 1.0 / (1.0 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        else:
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(W.T, dZ)
    return grads
