# expect: partial
"""correct: conv and pooling vectorised with an explicit im2col (gather the patches into a
matrix, one matmul) and its col2im with np.add.at; the fast names alias the same code."""

import numpy as np


def _patch_index(C, H, W, HH, WW, stride):
    """Row, column and channel indices of every patch entry, for fancy indexing."""
    H_out = (H - HH) // stride + 1
    W_out = (W - WW) // stride + 1
    i0 = np.tile(np.repeat(np.arange(HH), WW), C)
    j0 = np.tile(np.arange(WW), HH * C)
    i1 = stride * np.repeat(np.arange(H_out), W_out)
    j1 = stride * np.tile(np.arange(W_out), H_out)
    rows = i0.reshape(-1, 1) + i1.reshape(1, -1)
    cols = j0.reshape(-1, 1) + j1.reshape(1, -1)
    chans = np.repeat(np.arange(C), HH * WW).reshape(-1, 1)
    return chans, rows, cols, H_out, W_out


def im2col(x, HH, WW, stride):
    N, C, H, W = x.shape
    k, i, j, H_out, W_out = _patch_index(C, H, W, HH, WW, stride)
    cols = x[:, k, i, j]  # (N, C*HH*WW, H_out*W_out)
    return cols, H_out, W_out


def col2im(cols, shape, HH, WW, stride):
    N, C, H, W = shape
    k, i, j, _, _ = _patch_index(C, H, W, HH, WW, stride)
    x = np.zeros(shape)
    np.add.at(x, (slice(None), k, i, j), cols)
    return x


def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N = x.shape[0]
    F, C, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols, H_out, W_out = im2col(xp, HH, WW, s)
    out = np.einsum("fk,nkl->nfl", w.reshape(F, -1), cols) + b.reshape(1, F, 1)
    out = out.reshape(N, F, H_out, W_out)
    return out, (x, w, b, conv_param, cols)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param, cols = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    d = dout.reshape(N, F, -1)
    db = d.sum(axis=(0, 2))
    dw = np.einsum("nfl,nkl->fk", d, cols).reshape(w.shape)
    dcols = np.einsum("fk,nfl->nkl", w.reshape(F, -1), d)
    dxp = col2im(dcols, (N, C, H + 2 * p, W + 2 * p), HH, WW, s)
    dx = dxp[:, :, p:p + H, p:p + W]
    return dx, dw, db


conv_forward_fast = conv_forward_naive
conv_backward_fast = conv_backward_naive


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    cols, H_out, W_out = im2col(x.reshape(N * C, 1, H, W), ph, pw, s)
    arg = np.argmax(cols, axis=1)  # (N*C, L)
    out = np.take_along_axis(cols, arg[:, None, :], axis=1)[:, 0, :]
    out = out.reshape(N, C, H_out, W_out)
    return out, (x, pool_param, arg)


def max_pool_backward_naive(dout, cache):
    x, pool_param, arg = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    L = dout.shape[2] * dout.shape[3]
    dcols = np.zeros((N * C, ph * pw, L))
    np.put_along_axis(dcols, arg[:, None, :], dout.reshape(N * C, 1, L), axis=1)
    dx = col2im(dcols, (N * C, 1, H, W), ph, pw, s)
    return dx.reshape(x.shape)


max_pool_forward_fast = max_pool_forward_naive
max_pool_backward_fast = max_pool_backward_naive
