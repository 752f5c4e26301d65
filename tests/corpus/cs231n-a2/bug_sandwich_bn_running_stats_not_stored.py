# expect: fail wrong_mode
"""bug: conv_bn_relu_forward computes the new running mean and variance into local
variables and never stores them back into bn_param, so test mode later uses stale
statistics; the conv is an inline einsum, the batchnorm a (N*H*W, F) transpose."""

import numpy as np


def _conv(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    F, C, HH, WW = w.shape
    Ho = (xp.shape[2] - HH) // s + 1
    Wo = (xp.shape[3] - WW) // s + 1
    cols = np.empty((x.shape[0], C, HH, WW, Ho, Wo))
    for i in range(HH):
        for j in range(WW):
            cols[:, :, i, j] = xp[:, :, i:i + s * Ho:s, j:j + s * Wo:s]
    out = np.einsum('ncijhw,fcij->nfhw', cols, w) + b[None, :, None, None]
    return out, (xp.shape, cols, w, s, p)


def _conv_back(da, cache):
    xp_shape, cols, w, s, p = cache
    HH, WW = w.shape[2:]
    Ho, Wo = da.shape[2:]
    dw = np.einsum('ncijhw,nfhw->fcij', cols, da)
    db = da.sum(axis=(0, 2, 3))
    dcols = np.einsum('nfhw,fcij->ncijhw', da, w)
    dxp = np.zeros(xp_shape)
    for i in range(HH):
        for j in range(WW):
            dxp[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += dcols[:, :, i, j]
    H, W = xp_shape[2] - 2 * p, xp_shape[3] - 2 * p
    return dxp[:, :, p:p + H, p:p + W], dw, db


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    a, conv_cache = _conv(x, w, b, conv_param)
    N, F, H, W = a.shape
    z = a.transpose(0, 2, 3, 1).reshape(-1, F)
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    running_mean = bn_param.get('running_mean', np.zeros(F))
    running_var = bn_param.get('running_var', np.zeros(F))
    if bn_param['mode'] == 'train':
        mu = z.mean(axis=0)
        var = z.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        # (forgot) bn_param['running_mean'] = running_mean ...
    else:
        mu, var = running_mean, running_var
    zhat = (z - mu) / np.sqrt(var + eps)
    y = (gamma * zhat + beta).reshape(N, H, W, F).transpose(0, 3, 1, 2)
    out = np.maximum(0, y)
    return out, (conv_cache, zhat, var, eps, gamma, y)


def conv_bn_relu_backward(dout, cache):
    conv_cache, zhat, var, eps, gamma, y = cache
    N, F, H, W = dout.shape
    dy = (dout * (y > 0)).transpose(0, 2, 3, 1).reshape(-1, F)
    dgamma = np.sum(dy * zhat, axis=0)
    dbeta = np.sum(dy, axis=0)
    dzhat = dy * gamma
    m = dy.shape[0]
    dz = (dzhat - dzhat.mean(axis=0) - zhat * (dzhat * zhat).mean(axis=0)) / np.sqrt(var + eps)
    da = dz.reshape(N, H, W, F).transpose(0, 3, 1, 2)
    dx, dw, db = _conv_back(da, conv_cache)
    return dx, dw, db, dgamma, dbeta
