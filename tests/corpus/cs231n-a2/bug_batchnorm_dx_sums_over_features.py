# expect: partial wrong_axis
"""bug in one of two: the compact backward (batchnorm_backward_alt) takes its two sums over axis=1 with keepdims, each sample's features, instead of over the batch; the forward and the graph-style batchnorm_backward are right"""

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
        mu = np.mean(x, axis=0)
        var = np.var(x, axis=0)
        xhat = (x - mu) / np.sqrt(var + eps)
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x, mu, var, xhat, eps, gamma)
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x, mu, var, xhat, eps, gamma = cache
    N = x.shape[0]
    dxhat = dout * gamma
    dvar = np.sum(dxhat * (x - mu), axis=0) * -0.5 * (var + eps) ** (-1.5)
    dmu = np.sum(-dxhat / np.sqrt(var + eps), axis=0)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N + dmu / N
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def batchnorm_backward_alt(dout, cache):
    x, mu, var, xhat, eps, gamma = cache
    N = x.shape[0]
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * (dxhat * xhat).sum(axis=1, keepdims=True)) / (
        N * np.sqrt(var + eps)
    )
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
