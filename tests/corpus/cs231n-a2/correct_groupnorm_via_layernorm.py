# expect: partial
"""correct spatial_groupnorm that reuses a layernorm on the (N * G, C // G * H * W) view, as students do after the layernorm question; a stray shape print left in"""

import numpy as np


def layer_norm_rows(x, eps):
    mu = np.mean(x, axis=1, keepdims=True)
    sd = np.sqrt(np.var(x, axis=1, keepdims=True) + eps)
    return (x - mu) / sd, sd


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    rows = x.reshape(N * G, -1)
    print("group rows", rows.shape)
    xn, sd = layer_norm_rows(rows, gn_param.get("eps", 1e-5))
    xn = xn.reshape(x.shape)
    out = xn * gamma + beta
    return out, (xn, sd, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    xn, sd, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = np.sum(dout * xn, axis=(0, 2, 3)).reshape(1, C, 1, 1)
    dbeta = np.sum(dout, axis=(0, 2, 3)).reshape(1, C, 1, 1)
    g = (dout * gamma).reshape(N * G, -1)
    xr = xn.reshape(N * G, -1)
    dx = (g - g.mean(axis=1, keepdims=True) - xr * np.mean(g * xr, axis=1, keepdims=True)) / sd
    return dx.reshape(N, C, H, W), dgamma, dbeta
