# expect: fail lost_accumulation
"""bug: a node-by-node backward that forgets the second branch into x - mu: the gradient through the variance (dxmu2) is computed but never added to dxmu, so batchnorm_backward and the alt (which reuses it) miss the variance path"""

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
        mu = np.sum(x, axis=0) / N
        xmu = x - mu
        var = np.sum(xmu**2, axis=0) / N
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / sqrtvar**2 * divar
    dvar = 0.5 / np.sqrt(var + eps) * dsqrtvar
    dsq = np.ones((N, D)) * dvar / N
    dxmu2 = 2 * xmu * dsq
    dxmu = dxmu1  # TODO add dxmu2?
    dmu = -np.sum(dxmu, axis=0)
    dx = dxmu + np.ones((N, D)) * dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    return batchnorm_backward(dout, cache)
