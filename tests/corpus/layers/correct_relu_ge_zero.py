# expect: pass
"""correct, caches the inputs, ReLU derivative taken as 1 at x == 0 (>=), one-hot via np.eye"""

import numpy as np


def affine_forward(x, w, b):
    x2 = np.reshape(x, (len(x), w.shape[0]))
    return np.einsum("nd,dm->nm", x2, w) + b, {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    x2 = np.reshape(x, (len(x), w.shape[0]))
    return np.reshape(dout @ w.T, x.shape), x2.T @ dout, np.sum(dout, axis=0)


def relu_forward(x):
    return np.where(x >= 0, x, 0.0), x


def relu_backward(dout, cache):
    return np.where(cache >= 0, dout, 0.0)


def _sig(x):
    return np.exp(-np.logaddexp(0.0, -x))


def sigmoid_forward(x):
    return _sig(x), x


def sigmoid_backward(dout, cache):
    s = _sig(cache)
    return dout * s * (1 - s)


def tanh_forward(x):
    return np.tanh(x), x


def tanh_backward(dout, cache):
    return dout / np.cosh(cache) ** 2


def softmax_loss(x, y):
    N, C = x.shape
    onehot = np.eye(C)[y]
    z = x - np.max(x, axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.sum(onehot * np.log(p)) / N
    return loss, (p - onehot) / N


def mse_loss(x, y):
    N = x.shape[0]
    loss = 0.0
    for i in range(N):
        loss += 0.5 * np.sum((x[i] - y[i]) ** 2)
    return loss / N, (x - y) / N
