# expect: pass
"""correct, written with np.einsum and a tanh-based sigmoid"""

import numpy as np


def logistic(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def backprop(X, y, weights, biases):
    a = logistic(np.einsum("bd,dh->bh", X, weights["w1"]) + biases["b1"])
    out = np.einsum("bh,hk->bk", a, weights["w2"]) + biases["b2"]
    e2 = out - y
    e1 = np.einsum("bk,hk->bh", e2, weights["w2"]) * a * (1 - a)
    grads = {}
    grads["w2"] = np.einsum("bh,bk->hk", a, e2)
    grads["b2"] = np.einsum("bk->k", e2)
    grads["w1"] = np.einsum("bd,bh->dh", X, e1)
    grads["b1"] = np.einsum("bh->h", e1)
    return grads
