# expect: fail wrong_mode
"""bug: the running averages weight the batch by momentum and the old value by 1 - momentum (running = (1 - momentum) * running + momentum * batch), the other way round from the course"""

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
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        xhat = (x - mean) / np.sqrt(var + eps)
        out = gamma * xhat + beta
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var
        cache = (xhat, var, eps, gamma)
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward_alt(dout, cache):
    xhat, var, eps, gamma = cache
    N = dout.shape[0]
    dgamma = (dout * xhat).sum(0)
    dbeta = dout.sum(0)
    dxhat = dout * gamma
    dx = (1.0 / N) / np.sqrt(var + eps) * (N * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    return dx, dgamma, dbeta
