# expect: fail wrong_mode
"""bug: the mask is drawn and applied whatever the mode, so test mode drops units too instead of being the identity; train mode is right"""

import numpy as np


def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = (np.random.rand(*x.shape) < p) / p
    out = x * mask
    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask
