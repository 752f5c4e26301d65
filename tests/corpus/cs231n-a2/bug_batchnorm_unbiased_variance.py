# expect: fail wrong_forward
"""bug: the batch variance is the unbiased one (np.var with ddof=1, divided by N - 1), in the normalisation and in the running average; the backward is written for it consistently"""

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
        mean = np.mean(x, axis=0)
        var = np.var(x, axis=0, ddof=1)  # sample variance
        xn = (x - mean) / np.sqrt(var + eps)
        out = gamma * xn + beta
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x, mean, var, eps, gamma)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x, mean, var, eps, gamma = cache
    N = x.shape[0]
    xc = x - mean
    std = np.sqrt(var + eps)
    xn = xc / std
    dgamma = np.sum(dout * xn, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxn = dout * gamma
    dvar = np.sum(dxn * xc, axis=0) * -0.5 / std**3
    dmean = -np.sum(dxn, axis=0) / std
    dx = dxn / std + dvar * 2 * xc / (N - 1) + dmean / N
    return dx, dgamma, dbeta
