# expect: fail wrong_routing
"""bug: max_pool_backward_naive hands the upstream gradient to every entry of the window,
as if it were the max of each of them, instead of only to the max."""

import numpy as np


def max_pool_forward_naive(x, pool_param):
    HP, WP, S = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    Ho = 1 + (H - HP) // S
    Wo = 1 + (W - WP) // S
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = np.amax(x[:, :, i*S:i*S+HP, j*S:j*S+WP], axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    HP, WP, S = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dx = np.zeros_like(x)
    _, _, Ho, Wo = dout.shape
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i*S:i*S+HP, j*S:j*S+WP] += dout[:, :, i, j][:, :, np.newaxis, np.newaxis]
    print("maxpool backward done", dx.shape)
    return dx
