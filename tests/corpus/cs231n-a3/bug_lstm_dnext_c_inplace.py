# expect: fail mutates_input
"""bug: lstm_step_backward adds to the caller's dnext_c in place (dnext_c += ...), so the upstream gradient array handed in is changed; the gradients themselves are right"""

import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H]), _sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dnext_c += dnext_h * o * (1 - np.tanh(next_c) ** 2)
    da = np.concatenate(
        [
            dnext_c * g * i * (1 - i),
            dnext_c * prev_c * f * (1 - f),
            dnext_h * np.tanh(next_c) * o * (1 - o),
            dnext_c * i * (1 - g**2),
        ],
        axis=1,
    )
    return da.dot(Wx.T), da.dot(Wh.T), dnext_c * f, x.T.dot(da), prev_h.T.dot(da), da.sum(0)
