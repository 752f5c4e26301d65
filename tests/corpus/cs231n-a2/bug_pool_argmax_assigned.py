# expect: fail lost_accumulation
"""bug: dx[n, c, i*stride + r, j*stride + s] = dout[n, c, i, j] assigns instead of adding:
it passes the notebook's check (2x2 windows at stride 2 never overlap) but an entry that
is the max of several overlapping windows keeps only the last window's gradient."""

import numpy as np


def max_pool_forward_naive(x, pool_param):
    pool_height = pool_param['pool_height']
    pool_width = pool_param['pool_width']
    stride = pool_param['stride']
    N, C, H, W = x.shape
    H_out = int(1 + (H - pool_height) / stride)
    W_out = int(1 + (W - pool_width) / stride)
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + pool_height,
                                               j * stride:j * stride + pool_width])
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    pool_height = pool_param['pool_height']
    pool_width = pool_param['pool_width']
    stride = pool_param['stride']
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + pool_height,
                               j * stride:j * stride + pool_width]
                    idx = np.argmax(window)
                    row, col = idx // pool_width, idx % pool_width
                    dx[n, c, i * stride + row, j * stride + col] = dout[n, c, i, j]
    return dx
