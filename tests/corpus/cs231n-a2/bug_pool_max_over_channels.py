# expect: fail wrong_routing
"""bug: the backward vectorises over the channels but takes np.max(window) over the whole
(C, ph, pw) block, so in each window only the channel holding the overall largest value
gets a gradient."""

import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph = pool_param["pool_height"]
    pw = pool_param["pool_width"]
    s = pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - ph) // s + 1, (W - pw) // s + 1))
    for n in range(N):
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                window = x[n, :, i * s:i * s + ph, j * s:j * s + pw]
                out[n, :, i, j] = window.reshape(C, -1).max(axis=1)
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph = pool_param["pool_height"]
    pw = pool_param["pool_width"]
    s = pool_param["stride"]
    dx = np.zeros_like(x)
    N = x.shape[0]
    for n in range(N):
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                window = x[n, :, i * s:i * s + ph, j * s:j * s + pw]
                mask = window == np.max(window)
                dx[n, :, i * s:i * s + ph, j * s:j * s + pw] += (
                    mask * dout[n, :, i, j][:, None, None])
    return dx
