# expect: fail transposed
"""bug: rnn_step_backward computes dWh as dz.T @ prev_h, the transpose of prev_h.T @ dz; Wh is square, so the shape check does not catch it"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dz = dnext_h * (1 - next_h**2)
    print("dz", dz.shape)
    dx = dz @ Wx.T
    dprev_h = dz @ Wh.T
    dWx = x.T @ dz
    dWh = dz.T @ prev_h
    db = dz.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
