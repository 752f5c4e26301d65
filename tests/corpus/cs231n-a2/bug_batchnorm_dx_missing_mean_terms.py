# expect: fail lost_accumulation
"""bug: batchnorm_backward treats the batch mean and variance as constants: dx = dxhat / sqrt(var + eps), the paths through mu and var never added in; dgamma and dbeta are right"""

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
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_norm = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_norm + beta
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        cache = {"x_norm": x_norm, "var": sample_var, "eps": eps, "gamma": gamma}
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * cache["x_norm"], axis=0)
    dx_norm = dout * cache["gamma"]
    dx = dx_norm / np.sqrt(cache["var"] + cache["eps"])
    print("dx", dx.shape)
    return dx, dgamma, dbeta
