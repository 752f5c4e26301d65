# expect: fail scaled
"""bug: the forward caches the boolean mask and scales only the output; the backward multiplies by the mask but forgets the 1 / p, so dx is p times too small"""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    keep = None
    if mode == "train":
        keep = np.random.rand(*x.shape) < p
        out = x * keep / p
    else:
        out = x
    return out, (mode, keep)


def dropout_backward(dout, cache):
    mode, keep = cache
    if mode == "train":
        return dout * keep
    return dout
