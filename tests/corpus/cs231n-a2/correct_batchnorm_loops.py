# expect: partial
"""correct batchnorm and batchnorm_alt written with explicit Python loops over the features and the batch, the running statistics updated in place with slice assignment"""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    if "running_mean" not in bn_param:
        bn_param["running_mean"] = np.zeros(D)
        bn_param["running_var"] = np.zeros(D)
    rm = bn_param["running_mean"]
    rv = bn_param["running_var"]

    out = np.zeros_like(x)
    cache = None
    if mode == "train":
        means = np.zeros(D)
        variances = np.zeros(D)
        for j in range(D):
            total = 0.0
            for i in range(N):
                total += x[i, j]
            means[j] = total / N
            sq = 0.0
            for i in range(N):
                sq += (x[i, j] - means[j]) ** 2
            variances[j] = sq / N
        xhat = np.zeros_like(x)
        for i in range(N):
            for j in range(D):
                xhat[i, j] = (x[i, j] - means[j]) / np.sqrt(variances[j] + eps)
                out[i, j] = gamma[j] * xhat[i, j] + beta[j]
        for j in range(D):
            rm[j] = momentum * rm[j] + (1 - momentum) * means[j]
            rv[j] = momentum * rv[j] + (1 - momentum) * variances[j]
        cache = {"xhat": xhat, "var": variances, "gamma": gamma, "eps": eps}
    else:
        for i in range(N):
            for j in range(D):
                out[i, j] = gamma[j] * (x[i, j] - rm[j]) / np.sqrt(rv[j] + eps) + beta[j]
    return out, cache


def _backward_loops(dout, cache):
    xhat, var, gamma, eps = cache["xhat"], cache["var"], cache["gamma"], cache["eps"]
    N, D = dout.shape
    dx = np.zeros_like(dout)
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    for j in range(D):
        s1 = 0.0
        s2 = 0.0
        for i in range(N):
            dbeta[j] += dout[i, j]
            dgamma[j] += dout[i, j] * xhat[i, j]
            s1 += dout[i, j] * gamma[j]
            s2 += dout[i, j] * gamma[j] * xhat[i, j]
        for i in range(N):
            dxh = dout[i, j] * gamma[j]
            dx[i, j] = (N * dxh - s1 - xhat[i, j] * s2) / (N * np.sqrt(var[j] + eps))
    return dx, dgamma, dbeta


def batchnorm_backward(dout, cache):
    return _backward_loops(dout, cache)


def batchnorm_backward_alt(dout, cache):
    return _backward_loops(dout, cache)
