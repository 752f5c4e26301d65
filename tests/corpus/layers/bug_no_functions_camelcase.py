# expect: fail missing_entry_point
"""bug: every layer function is named in camelCase, so none of the required names exists"""

import numpy as np


def affineForward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affineBackward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(0)


def reluForward(x):
    return np.maximum(0, x), x


def reluBackward(dout, cache):
    return dout * (cache > 0)


def softmaxLoss(x, y):
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n
