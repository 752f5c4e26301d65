# expect: partial
"""correct inverted dropout whose mask comes from np.random.binomial(1, p, size) after seeding (another valid draw than the course's rand < p), the boolean mask and p cached separately"""

import numpy as np


def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    mode = dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = np.random.binomial(1, p, size=x.shape)
        out = x * mask / p
    else:
        out = x.copy()
    return out, (mode, p, mask)


def dropout_backward(dout, cache):
    mode, p, mask = cache
    if mode == "train":
        return dout * mask / p
    return dout
