# expect: fail lost_accumulation
"""bug: conv_backward_naive assigns each window's gradient into dx_pad (=) instead of adding
it (+=); the filters are summed first, so it is right without overlap (stride >= filter
size) and wrong as soon as neighbouring windows share pixels."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW]
                out[n, :, i, j] = np.sum(window[None] * w, axis=(1, 2, 3)) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW]
                g = dout[n, :, i, j]
                dw += g[:, None, None, None] * window[None]
                dx_pad[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW] = np.sum(
                    g[:, None, None, None] * w, axis=0)
    dx = dx_pad[:, :, pad:pad+H, pad:pad+W]
    return dx, dw, db
