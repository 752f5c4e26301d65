# expect: partial
"""correct layernorm, vectorised over rows with keepdims and written step by step (mean, variance, inverse std), with a debugging print left in the backward"""

import numpy as np

DEBUG = False


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mean = np.mean(x, axis=1, keepdims=True)
    xc = x - mean
    var = np.mean(xc**2, axis=1, keepdims=True)
    inv = 1.0 / np.sqrt(var + eps)
    xn = xc * inv
    out = xn * gamma + beta
    return out, (xc, inv, xn, gamma)


def layernorm_backward(dout, cache):
    xc, inv, xn, gamma = cache
    D = dout.shape[1]
    dgamma = np.sum(dout * xn, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxn = dout * gamma
    dvar = np.sum(dxn * xc, axis=1, keepdims=True) * -0.5 * inv**3
    dmean = -np.sum(dxn * inv, axis=1, keepdims=True) - 2.0 * dvar * np.mean(xc, axis=1, keepdims=True)
    dx = dxn * inv + dvar * 2.0 * xc / D + dmean / D
    if DEBUG:
        print("dx", dx.shape, "dgamma", dgamma.shape)
    print("layernorm backward done")
    return dx, dgamma, dbeta
