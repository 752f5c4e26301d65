# expect: fail wrong_axis
"""bug: the forward is right, but the backward's two sums in dx (of dxhat and of dxhat * xhat) run over axis=0, the batch, as in batchnorm, instead of over each row's features"""

import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mean = np.mean(x, axis=1, keepdims=True)
    var = np.var(x, axis=1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, eps, gamma)


def layernorm_backward(dout, cache):
    xhat, var, eps, gamma = cache
    N, D = dout.shape
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    sum1 = np.sum(dxhat, axis=0, keepdims=True)
    sum2 = np.sum(dxhat * xhat, axis=0, keepdims=True)
    dx = (D * dxhat - sum1 - xhat * sum2) / (D * np.sqrt(var + eps))
    return dx, dgamma, dbeta
