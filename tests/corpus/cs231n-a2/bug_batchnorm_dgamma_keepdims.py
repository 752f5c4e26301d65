# expect: fail shape_mismatch
"""bug: batchnorm's (and the alt's) dgamma and dbeta are summed with keepdims=True, so they come back as (1, D) instead of gamma's (D,)"""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        xhat = (x - mu) / std
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, std, gamma)
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0, keepdims=True)
    dgamma = np.sum(dout * xhat, axis=0, keepdims=True)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0, keepdims=True) - xhat * (dxhat * xhat).sum(axis=0, keepdims=True)) / (N * std)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    return batchnorm_backward(dout, cache)
