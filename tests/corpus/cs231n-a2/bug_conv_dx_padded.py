# expect: fail shape_mismatch
"""bug: conv_backward_naive returns dx_pad as dx, never cropping the padding back off, so
dx is (N, C, H + 2*pad, W + 2*pad)."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_ = 1 + (H + 2 * pad - HH) // stride
    W_ = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0,), (0,), (pad,), (pad,)), 'constant')
    out = np.zeros((N, F, H_, W_))
    for n in range(N):
        for f in range(F):
            for hi in range(H_):
                for wi in range(W_):
                    out[n, f, hi, wi] = np.sum(
                        x_pad[n, :, hi*stride:hi*stride+HH, wi*stride:wi*stride+WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_, W_ = dout.shape
    x_pad = np.pad(x, ((0,), (0,), (pad,), (pad,)), 'constant')
    dx = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for hi in range(H_):
                for wi in range(W_):
                    hs, ws = hi * stride, wi * stride
                    dw[f] += x_pad[n, :, hs:hs+HH, ws:ws+WW] * dout[n, f, hi, wi]
                    dx[n, :, hs:hs+HH, ws:ws+WW] += w[f] * dout[n, f, hi, wi]
    return dx, dw, db
