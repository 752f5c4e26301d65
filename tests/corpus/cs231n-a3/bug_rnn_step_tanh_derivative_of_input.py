# expect: fail wrong_activation_derivative
"""bug: rnn_step_backward caches the pre-activation and takes tanh'(z) as 1 - z**2 instead of 1 - tanh(z)**2"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h, cache = None, None
    z = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    next_h = np.tanh(z)
    cache = (x, prev_h, Wx, Wh, z)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    x, prev_h, Wx, Wh, z = cache
    dz = dnext_h * (1 - z**2)
    dx = np.dot(dz, Wx.T)
    dprev_h = np.dot(dz, Wh.T)
    dWx = np.dot(x.T, dz)
    dWh = np.dot(prev_h.T, dz)
    db = np.sum(dz, axis=0)
    return dx, dprev_h, dWx, dWh, db
