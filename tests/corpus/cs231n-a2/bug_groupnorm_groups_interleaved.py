# expect: fail wrong_forward
"""bug: spatial groupnorm splits the channels with x.reshape(N, C // G, G, H, W) and normalises over axes (1, 3, 4), so a group is every G-th channel instead of C // G consecutive ones"""

import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)
    mu = xg.mean(axis=(1, 3, 4), keepdims=True)
    var = xg.var(axis=(1, 3, 4), keepdims=True)
    xhat = ((xg - mu) / np.sqrt(var + eps)).reshape(N, C, H, W)
    out = gamma * xhat + beta
    return out, (xhat, var, eps, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    xhat, var, eps, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    g = (dout * gamma).reshape(N, C // G, G, H, W)
    xh = xhat.reshape(N, C // G, G, H, W)
    M = (C // G) * H * W
    dx = (M * g - g.sum(axis=(1, 3, 4), keepdims=True) - xh * (g * xh).sum(axis=(1, 3, 4), keepdims=True)) / (
        M * np.sqrt(var + eps)
    )
    return dx.reshape(N, C, H, W), dgamma, dbeta
