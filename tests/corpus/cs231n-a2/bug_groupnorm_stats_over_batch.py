# expect: fail wrong_axis
"""bug: the group statistics are taken over the batch as well (axes 0, 2, 3, 4 of the (N, G, C // G, H, W) view), so the samples of a batch share each group's mean and variance"""

import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    axes = (0, 2, 3, 4)
    mu = xg.mean(axis=axes, keepdims=True)
    var = xg.var(axis=axes, keepdims=True)
    xhat = (xg - mu) / np.sqrt(var + eps)
    out = gamma * xhat.reshape(N, C, H, W) + beta
    return out, (xhat, var, eps, gamma, axes)


def spatial_groupnorm_backward(dout, cache):
    xhat, var, eps, gamma, axes = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xhat.reshape(N, C, H, W), axis=(0, 2, 3), keepdims=True)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    g = (dout * gamma).reshape(xhat.shape)
    m = g.size // g.shape[1]
    dx = (m * g - g.sum(axis=axes, keepdims=True) - xhat * (g * xhat).sum(axis=axes, keepdims=True)) / (
        m * np.sqrt(var + eps)
    )
    return dx.reshape(N, C, H, W), dgamma, dbeta
