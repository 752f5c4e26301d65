# expect: partial
"""correct but incomplete: only affine and relu layers written (missing functions cost their points: partial)"""

import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    D = int(np.prod(x.shape[1:]))
    out = np.dot(x.reshape(N, D), w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    x_flat = x.reshape(N, -1)
    dx = np.zeros_like(x_flat)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(N):
        dx[i] = w @ dout[i]
        dw += np.outer(x_flat[i], dout[i])
        db += dout[i]
    return dx.reshape(x.shape), dw, db


def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x


def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx


# TODO sigmoid, tanh, softmax_loss, mse_loss
