# expect: fail missing_activation_derivative
"""bug: lstm_step_backward returns dprev_c as the total gradient of next_c, leaving out the forget gate (d next_c / d prev_c = f)"""

import numpy as np


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    A = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    ai, af, ao, ag = np.split(A, 4, axis=1)
    i = 1.0 / (1.0 + np.exp(-ai))
    f = 1.0 / (1.0 + np.exp(-af))
    o = 1.0 / (1.0 + np.exp(-ao))
    g = np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh,
             "i": i, "f": f, "o": o, "g": g, "next_c": next_c}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
    tanh_c = np.tanh(cache["next_c"])
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    dprev_c = dc  # the forget gate is missing here
    d_i = dc * g * i * (1 - i)
    d_f = dc * cache["prev_c"] * f * (1 - f)
    d_o = dnext_h * tanh_c * o * (1 - o)
    d_g = dc * i * (1 - g * g)
    dA = np.concatenate((d_i, d_f, d_o, d_g), axis=1)
    dx = np.dot(dA, cache["Wx"].T)
    dprev_h = np.dot(dA, cache["Wh"].T)
    dWx = np.dot(cache["x"].T, dA)
    dWh = np.dot(cache["prev_h"].T, dA)
    db = np.sum(dA, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
