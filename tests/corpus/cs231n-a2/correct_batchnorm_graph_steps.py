# expect: partial
"""correct batchnorm, batchnorm_alt and spatial_batchnorm written as in the course's hint: a computational graph, one node per line, backpropagated node by node; test mode leaves the cache as None, the spatial versions transpose channels last and reuse the vanilla ones"""

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
        #######################################################################
        # TODO: Implement the training-time forward pass for batch norm.      #
        #######################################################################
        # step 1: mean
        mu = 1.0 / N * np.sum(x, axis=0)
        # step 2: subtract the mean
        xmu = x - mu
        # step 3: square
        sq = xmu**2
        # step 4: variance
        var = 1.0 / N * np.sum(sq, axis=0)
        # step 5: sqrt
        sqrtvar = np.sqrt(var + eps)
        # step 6: invert
        ivar = 1.0 / sqrtvar
        # step 7: normalise
        xhat = xmu * ivar
        # step 8, 9: scale and shift
        gammax = gamma * xhat
        out = gammax + beta

        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var

        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
        #######################################################################
        #                           END OF YOUR CODE                          #
        #######################################################################
    elif mode == "test":
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * xhat + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape

    # step 9
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    # step 8
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    # step 7
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    # step 6
    dsqrtvar = -1.0 / (sqrtvar**2) * divar
    # step 5
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    # step 4
    dsq = 1.0 / N * np.ones((N, D)) * dvar
    # step 3
    dxmu2 = 2 * xmu * dsq
    # step 2
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    # step 1
    dx2 = 1.0 / N * np.ones((N, D)) * dmu
    dx = dx1 + dx2

    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = ivar / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dout_flat = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_flat, dgamma, dbeta = batchnorm_backward_alt(dout_flat, cache)
    dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta
