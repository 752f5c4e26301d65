# expect: fail wrong_forward
"""bug: the LSTM step slices the gates in the order i, f, g, o (as in PyTorch) instead of the assignment's i, f, o, g; forward and backward agree with each other, but the outputs are wrong"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, 0 * H : 1 * H])
    f = sigmoid(a[:, 1 * H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, g, o, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, next_c = cache
    t = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - t**2)
    di = dc * g * i * (1 - i)
    df = dc * prev_c * f * (1 - f)
    dg = dc * i * (1 - g**2)
    do = dnext_h * t * o * (1 - o)
    da = np.hstack([di, df, dg, do])
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
