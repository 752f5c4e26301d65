# expect: pass
"""correct, compact: caches are (A_prev, W, Z) tuples and dZ of the output is AL - Y directly"""

import numpy as np


def L_model_forward(X, parameters):
    L = len([k for k in parameters if k.startswith("W")])
    caches = []
    A = X
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(Z, 0)
    return A, caches


def L_model_backward(AL, Y, caches):
    m = AL.shape[1]
    L = len(caches)
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
        if l > 1:
            Z_prev = caches[l - 2][2]
            dZ = (W.T @ dZ) * (Z_prev > 0)
    return grads
