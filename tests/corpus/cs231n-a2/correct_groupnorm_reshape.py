# expect: partial
"""correct spatial_groupnorm, vectorised: x reshaped to (N, G, C // G * H * W), normalised per row, gamma and beta of shape (1, C, 1, 1)"""

import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=2, keepdims=True)
    var = xg.var(axis=2, keepdims=True)
    xhat = ((xg - mu) / np.sqrt(var + eps)).reshape(N, C, H, W)
    out = gamma * xhat + beta
    cache = (G, xhat, var, eps, gamma)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    G, xhat, var, eps, gamma = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, -1)
    xh = xhat.reshape(N, G, -1)
    M = xh.shape[2]
    dxg = (M * dxhat - dxhat.sum(axis=2, keepdims=True) - xh * (dxhat * xh).sum(axis=2, keepdims=True)) / (
        M * np.sqrt(var + eps)
    )
    dx = dxg.reshape(N, C, H, W)
    return dx, dgamma, dbeta
