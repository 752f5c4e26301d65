# expect: partial
"""correct layernorm following the course's hint: transpose x and reuse the batchnorm train-mode arithmetic, then transpose back (gamma and beta applied after)"""

import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    xt = x.T  # (D, N): each column is one sample now
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    xhat_t = (xt - mu) / np.sqrt(var + eps)
    xhat = xhat_t.T
    out = gamma * xhat + beta
    cache = (xhat_t, var, eps, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat_t, var, eps, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat_t.T).sum(axis=0)
    dxhat_t = (dout * gamma).T  # (D, N)
    D = dxhat_t.shape[0]
    dx_t = (
        D * dxhat_t - dxhat_t.sum(axis=0) - xhat_t * (dxhat_t * xhat_t).sum(axis=0)
    ) / (D * np.sqrt(var + eps))
    dx = dx_t.T
    return dx, dgamma, dbeta
