# expect: fail scaled
"""bug: avg_pool_backward_naive spreads each upstream gradient over its window without the
1/(pool_height*pool_width) of the mean, so dx is ph*pw times too large."""

import numpy as np


def avg_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    Ho, Wo = (H - ph) // stride + 1, (W - pw) // stride + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i*stride:i*stride+ph, j*stride:j*stride+pw].mean(axis=(2, 3))
    return out, (x.shape, pool_param)


def avg_pool_backward_naive(dout, cache):
    shape, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dx = np.zeros(shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i*stride:i*stride+ph, j*stride:j*stride+pw] += dout[:, :, i:i+1, j:j+1]
    return dx
