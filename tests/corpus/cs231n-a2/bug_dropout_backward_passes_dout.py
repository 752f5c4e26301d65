# expect: fail wrong_routing
"""bug: the backward returns dout unchanged in both modes (the train branch was never written), so the gradient reaches the dropped units and is not divided by p"""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    dx = None
    # TODO: train mode
    dx = dout
    return dx
