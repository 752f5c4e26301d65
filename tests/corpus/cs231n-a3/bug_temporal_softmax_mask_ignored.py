# expect: fail wrong_forward wrong_routing
"""bug: temporal_softmax_loss never uses the mask, so the padded (<NULL>) positions count in the loss and get gradient"""

import numpy as np


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for t in range(T):
        scores = x[:, t, :]
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p = p / p.sum(axis=1, keepdims=True)
        loss += -np.log(p[np.arange(N), y[:, t]]).sum()
        p[np.arange(N), y[:, t]] -= 1
        dx[:, t, :] = p
    return loss / N, dx / N
