# expect: fail shape_mismatch
"""bug: db = np.sum(dout, axis=(0, 2)) -- the batch and the rows are summed but not the
columns, so db comes back (F, W_out) instead of (F,)."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride = conv_param['stride']
    pad = conv_param['pad']
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    N, C, H, W = x_padded.shape
    F, _, HH, WW = w.shape
    H_out = (H - HH) // stride + 1
    W_out = (W - WW) // stride + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for r in range(H_out):
                for c in range(W_out):
                    out[n, f, r, c] = np.sum(
                        x_padded[n, :, r*stride:r*stride+HH, c*stride:c*stride+WW] * w[f, :, :, :]
                    ) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride = conv_param['stride']
    pad = conv_param['pad']
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    N, F, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2))
    for n in range(N):
        for f in range(F):
            for r in range(H_out):
                for c in range(W_out):
                    dw[f] += x_padded[n, :, r*stride:r*stride+HH, c*stride:c*stride+WW] * dout[n, f, r, c]
                    dx_padded[n, :, r*stride:r*stride+HH, c*stride:c*stride+WW] += w[f] * dout[n, f, r, c]
    dx = dx_padded[:, :, pad:-pad, pad:-pad] if pad > 0 else dx_padded
    return dx, dw, db
