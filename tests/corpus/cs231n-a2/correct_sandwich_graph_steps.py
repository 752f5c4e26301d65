# expect: partial
"""correct: conv_relu, conv_relu_pool and conv_bn_relu written step by step like the
computational graph in the course's hints (every intermediate named and cached), on the
student's own naive conv, a max pool with np.where masks and a private spatial batchnorm
(transpose to (N*H*W, F), updates bn_param in place)."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    S = conv_param.get("stride", 1)
    P = conv_param.get("pad", 0)
    N, C, H, W = x.shape
    F, C2, HH, WW = w.shape
    Ho = (H + 2 * P - HH) // S + 1
    Wo = (W + 2 * P - WW) // S + 1
    xp = np.zeros((N, C, H + 2 * P, W + 2 * P))
    xp[:, :, P:P + H, P:P + W] = x
    out = np.empty((N, F, Ho, Wo))
    w_rows = w.reshape(F, -1)
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * S:i * S + HH, j * S:j * S + WW].reshape(N, -1)
            out[:, :, i, j] = patch @ w_rows.T + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    S = conv_param.get("stride", 1)
    P = conv_param.get("pad", 0)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.zeros((N, C, H + 2 * P, W + 2 * P))
    xp[:, :, P:P + H, P:P + W] = x
    dxp = np.zeros_like(xp)
    dw_rows = np.zeros((F, C * HH * WW))
    w_rows = w.reshape(F, -1)
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * S:i * S + HH, j * S:j * S + WW].reshape(N, -1)
            g = dout[:, :, i, j]                       # (N, F)
            dw_rows += g.T @ patch
            dxp[:, :, i * S:i * S + HH, j * S:j * S + WW] += (g @ w_rows).reshape(N, C, HH, WW)
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, P:P + H, P:P + W], dw_rows.reshape(w.shape), db


def max_pool_forward_naive(x, pool_param):
    ph, pw, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = (H - ph) // S + 1, (W - pw) // S + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * S:i * S + ph, j * S:j * S + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    Ho, Wo = dout.shape[2:]
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * S:i * S + ph, j * S:j * S + pw]
            m = win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * S:i * S + ph, j * S:j * S + pw] += np.where(
                win == m, dout[:, :, i, j][:, :, None, None], 0.0)
    return dx


def conv_relu_forward(x, w, b, conv_param):
    # step 1: a = conv(x)
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    # step 2: out = max(0, a)
    out = np.maximum(a, 0)
    cache = (conv_cache, a)
    return out, cache


def conv_relu_backward(dout, cache):
    conv_cache, a = cache
    # step 2 backwards: relu gate (>= is fine at exactly 0, it is a kink)
    da = np.where(a >= 0, dout, 0)
    # step 1 backwards
    dx, dw, db = conv_backward_naive(da, conv_cache)
    return dx, dw, db


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)   # step 1
    r = np.maximum(a, 0)                                       # step 2
    out, pool_cache = max_pool_forward_naive(r, pool_param)    # step 3
    return out, (conv_cache, a, pool_cache)


def conv_relu_pool_backward(dout, cache):
    conv_cache, a, pool_cache = cache
    dr = max_pool_backward_naive(dout, pool_cache)   # step 3
    da = dr * (a > 0)                                # step 2
    return conv_backward_naive(da, conv_cache)       # step 1


def _spatial_bn_forward(a, gamma, beta, bn_param):
    # (N, F, H, W) -> (N*H*W, F), vanilla batchnorm per column, and back
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, F, H, W = a.shape
    z = a.transpose(0, 2, 3, 1).reshape(-1, F)
    running_mean = bn_param.get("running_mean", np.zeros(F))
    running_var = bn_param.get("running_var", np.zeros(F))
    if mode == "train":
        mu = z.mean(axis=0)
        zc = z - mu
        var = (zc ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        zhat = zc / std
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
        cache = ("train", zhat, std, gamma)
    else:
        std = np.sqrt(running_var + eps)
        zhat = (z - running_mean) / std
        cache = ("test", zhat, std, gamma)
    y = gamma * zhat + beta
    return y.reshape(N, H, W, F).transpose(0, 3, 1, 2), cache


def _spatial_bn_backward(dy, cache):
    mode, zhat, std, gamma = cache
    N, F, H, W = dy.shape
    d = dy.transpose(0, 2, 3, 1).reshape(-1, F)
    dgamma = (d * zhat).sum(axis=0)
    dbeta = d.sum(axis=0)
    dzhat = d * gamma
    if mode == "train":
        m = d.shape[0]
        dz = (m * dzhat - dzhat.sum(axis=0) - zhat * (dzhat * zhat).sum(axis=0)) / (m * std)
    else:
        dz = dzhat / std
    return dz.reshape(N, H, W, F).transpose(0, 3, 1, 2), dgamma, dbeta


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)          # step 1
    y, bn_cache = _spatial_bn_forward(a, gamma, beta, bn_param)       # step 2
    out = np.maximum(y, 0)                                            # step 3
    return out, (conv_cache, bn_cache, y)


def conv_bn_relu_backward(dout, cache):
    conv_cache, bn_cache, y = cache
    dy = dout * (y > 0)                                   # step 3
    da, dgamma, dbeta = _spatial_bn_backward(dy, bn_cache)  # step 2
    dx, dw, db = conv_backward_naive(da, conv_cache)      # step 1
    return dx, dw, db, dgamma, dbeta
