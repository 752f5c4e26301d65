# expect: fail wrong_routing
"""bug: the backward draws a fresh mask (np.random.rand(*dout.shape) < p) instead of using the one the forward cached, so the gradient goes through units the forward dropped"""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, _ = cache
    p = dropout_param["p"]
    if dropout_param["mode"] == "train":
        mask = (np.random.rand(*dout.shape) < p) / p
        dx = dout * mask
    else:
        dx = dout
    return dx
