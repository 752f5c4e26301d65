# expect: fail wrong_axis
"""bug: layernorm copied from batchnorm without changing the axis: each feature is normalised over the batch (axis 0) instead of each row over its features"""

import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    cache = (xhat, var, eps, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    xhat, var, eps, gamma = cache
    N = dout.shape[0]
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * np.sqrt(var + eps))
    return dx, dgamma, dbeta
