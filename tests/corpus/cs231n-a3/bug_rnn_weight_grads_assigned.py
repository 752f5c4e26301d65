# expect: fail lost_accumulation
"""bug: rnn_backward assigns dWx, dWh and db at every time step instead of summing them over time, so only the first step's contribution is returned"""

import numpy as np


def step_forward(x, prev_h, Wx, Wh, b):
    z = x.dot(Wx) + prev_h.dot(Wh) + b
    next_h = np.tanh(z)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dz = (1 - next_h * next_h) * dnext_h
    dx = dz.dot(Wx.T)
    dprev_h = dz.dot(Wh.T)
    dWx = x.T.dot(dz)
    dWh = prev_h.T.dot(dz)
    db = np.sum(dz, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    T = x.shape[1]
    h = np.zeros((x.shape[0], T, h0.shape[1]))
    cache = []
    ht = h0
    for t in range(T):
        ht, ct = step_forward(x[:, t, :], ht, Wx, Wh, b)
        h[:, t, :] = ht
        cache.append(ct)
    return h, cache


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx, dWh, db = step_backward(dh[:, t, :] + dprev_h, cache[t])
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db
