# expect: fail wrong_forward
"""bug: a true convolution (the kernel rotated by 180 degrees, as in the signal-processing
definition) instead of the cross-correlation the course asks for; the backward is
consistent with the flipped forward, so only the forward values are wrong."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hout = 1 + (H + 2 * pad - HH) // stride
    Wout = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kernel = w[:, :, ::-1, ::-1]   # "convolution flips the kernel"
    out = np.zeros((N, F, Hout, Wout))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    region = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = (region * kernel[f]).sum() + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kernel = w[:, :, ::-1, ::-1]
    dxp = np.zeros_like(xp)
    dkernel = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    region = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    dkernel[f] += region * dout[n, f, i, j]
                    dxp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += (
                        kernel[f] * dout[n, f, i, j])
    dw = dkernel[:, :, ::-1, ::-1]
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
