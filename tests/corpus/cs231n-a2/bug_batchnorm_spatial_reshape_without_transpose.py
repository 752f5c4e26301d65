# expect: partial wrong_forward
"""bug in one of two: spatial batchnorm reshapes x (N, C, H, W) straight to (N * H * W, C) without moving the channels last first, so each column mixes channels and positions; the vanilla batchnorm it calls is right"""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        xhat = (x - mu) / np.sqrt(var + eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, np.sqrt(var + eps), gamma)
    else:
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
    out = gamma * xhat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward_alt(dout, cache):
    xhat, std, gamma = cache
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    g = dout * gamma
    dx = (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)) / std
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.reshape(-1, C), cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta
