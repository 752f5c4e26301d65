# expect: fail scaled
"""bug: vanilla, not inverted, dropout in train mode: the kept units are not divided by p (out = x * mask), while test mode is the identity, so train and test outputs differ in scale"""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = None
    if mode == "train":
        mask = np.random.rand(*x.shape) < p
        out = x * mask
    elif mode == "test":
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        dx = dout * mask
    else:
        dx = dout
    return dx
