import numpy as np
from activations import *

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db

def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx

def softmax_loss(x, y):
    N = x.shape[0]
    p = np.exp(x - np.max(x, axis=1, keepdims=True))
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def mse_loss(x, y):
    N = x.shape[0]
    loss = 0.5 * np.sum((x - y) ** 2) / N
    return loss, (x - y) / N
