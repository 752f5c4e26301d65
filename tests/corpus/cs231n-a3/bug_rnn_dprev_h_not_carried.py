# expect: fail lost_accumulation
"""bug: rnn_backward feeds each step only its own dh[:, t]; the gradient carried back from the later steps (dprev_h) is dropped, so the gradient never flows through time"""

import numpy as np


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t].dot(Wx) + prev.dot(Wh) + b)
        h[:, t] = prev
    cache = (x, h0, Wx, Wh, h)
    return h, cache


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        prev = h[:, t - 1] if t > 0 else h0
        da = dh[:, t] * (1 - h[:, t] ** 2)  # should be (dh[:, t] + dprev_h)
        dx[:, t] = da.dot(Wx.T)
        dprev_h = da.dot(Wh.T)
        dWx += x[:, t].T.dot(da)
        dWh += prev.T.dot(da)
        db += da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
