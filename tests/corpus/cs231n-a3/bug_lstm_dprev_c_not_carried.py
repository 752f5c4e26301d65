# expect: fail lost_accumulation
"""bug: lstm_backward carries dprev_h back through time but hands every step a zero dnext_c, so the gradient along the cell state is lost"""

import numpy as np


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, H))
    prev_h = h0
    cache = []
    for t in range(T):
        a = x[:, t] @ Wx + prev_h @ Wh + b
        i = 1 / (1 + np.exp(-a[:, :H]))
        f = 1 / (1 + np.exp(-a[:, H : 2 * H]))
        o = 1 / (1 + np.exp(-a[:, 2 * H : 3 * H]))
        g = np.tanh(a[:, 3 * H :])
        prev_c = c
        c = f * c + i * g
        cache.append((x[:, t], prev_h, prev_c, i, f, o, g, c))
        prev_h = o * np.tanh(c)
        h[:, t] = prev_h
    return h, (cache, Wx, Wh)


def lstm_backward(dh, cache):
    steps, Wx, Wh = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        x_t, h_prev, c_prev, i, f, o, g, c = steps[t]
        dnext_h = dh[:, t] + dprev_h
        dnext_c = np.zeros((N, H))  # the carried dprev_c should be used here
        dc = dnext_c + dnext_h * o * (1 - np.tanh(c) ** 2)
        da = np.hstack(
            [dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
             dnext_h * np.tanh(c) * o * (1 - o), dc * i * (1 - g**2)]
        )
        dx[:, t] = da @ Wx.T
        dprev_h = da @ Wh.T
        dWx += x_t.T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
