# expect: partial
"""correct batchnorm, batchnorm_alt and spatial_batchnorm exported from a notebook: einsum sums, leftover prints and plotting at top level, the spatial pair looping over channels"""

import matplotlib.pyplot as plt
import numpy as np

np.random.seed(231)
print("running batchnorm cells...")
plt.rcParams["figure.figsize"] = (10.0, 8.0)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mean = np.einsum("nd->d", x) / N
        centred = x - mean
        var = np.einsum("nd,nd->d", centred, centred) / N
        std = np.sqrt(var + eps)
        x_norm = centred / std
        # print("x_norm", x_norm.mean(axis=0), x_norm.std(axis=0))
        out = gamma * x_norm + beta
        cache = (x_norm, std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * ((x - running_mean) / np.sqrt(running_var + eps)) + beta
        cache = (None, None, gamma)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_norm, std, gamma = cache
    N = dout.shape[0]
    dgamma = np.einsum("nd,nd->d", dout, x_norm)
    dbeta = np.einsum("nd->d", dout)
    dx_norm = dout * gamma
    dvar = np.einsum("nd,nd->d", dx_norm, x_norm) * (-0.5) / std**2
    dmean = -np.einsum("nd->d", dx_norm) / std
    dx = dx_norm / std + dvar * 2 * x_norm * std / N + dmean / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    x_norm, std, gamma = cache
    N = dout.shape[0]
    dgamma = (dout * x_norm).sum(0)
    dbeta = dout.sum(0)
    g = dout * gamma
    dx = (g - g.mean(0) - x_norm * (g * x_norm).mean(0)) / std
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    rm = bn_param.get("running_mean", np.zeros(C)).copy()
    rv = bn_param.get("running_var", np.zeros(C)).copy()
    out = np.empty_like(x)
    caches = []
    for c in range(C):
        xc = x[:, c, :, :]
        if mode == "train":
            m, v = xc.mean(), xc.var()
            rm[c] = momentum * rm[c] + (1 - momentum) * m
            rv[c] = momentum * rv[c] + (1 - momentum) * v
        else:
            m, v = rm[c], rv[c]
        xn = (xc - m) / np.sqrt(v + eps)
        out[:, c, :, :] = gamma[c] * xn + beta[c]
        caches.append((xn, np.sqrt(v + eps), gamma[c]))
    bn_param["running_mean"] = rm
    bn_param["running_var"] = rv
    return out, caches


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx = np.empty_like(dout)
    dgamma = np.zeros(C)
    dbeta = np.zeros(C)
    for c in range(C):
        xn, std, g = cache[c]
        d = dout[:, c, :, :]
        dgamma[c] = np.sum(d * xn)
        dbeta[c] = np.sum(d)
        gx = d * g
        dx[:, c, :, :] = (gx - gx.mean() - xn * (gx * xn).mean()) / std
    return dx, dgamma, dbeta


x_demo = np.random.randn(200, 3) * 5 + 12
out_demo, _ = batchnorm_forward(x_demo, np.ones(3), np.zeros(3), {"mode": "train"})
print("After batch normalization (gamma=1, beta=0)")
print("  means: ", out_demo.mean(axis=0))
print("  stds:  ", out_demo.std(axis=0))
plt.hist(out_demo.ravel(), bins=30)
plt.show()
