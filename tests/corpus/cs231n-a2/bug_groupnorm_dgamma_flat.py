# expect: fail shape_mismatch
"""bug: spatial groupnorm's dgamma and dbeta are summed over (0, 2, 3) without keepdims, so they come back as (C,) while gamma and beta are (1, C, 1, 1); the values are right"""

import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)
    x_group = x.reshape(N * G, -1)
    mean = x_group.mean(axis=1, keepdims=True)
    std = np.sqrt(x_group.var(axis=1, keepdims=True) + eps)
    x_norm = ((x_group - mean) / std).reshape(N, C, H, W)
    out = x_norm * gamma + beta
    cache = (x_norm, std, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    x_norm, std, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * x_norm, axis=(0, 2, 3))
    dbeta = np.sum(dout, axis=(0, 2, 3))
    d = (dout * gamma).reshape(N * G, -1)
    xn = x_norm.reshape(N * G, -1)
    dx = (d - d.mean(axis=1, keepdims=True) - xn * (d * xn).mean(axis=1, keepdims=True)) / std
    return dx.reshape(N, C, H, W), dgamma, dbeta
