# expect: fail shape_mismatch
"""bug: temporal_affine_backward sums db over the batch axis only, returning db of shape (T, M) instead of (M,)"""

import numpy as np


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
    cache = x, w, b, out
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T.dot(dout.reshape(N * T, M))
    db = dout.sum(axis=0)
    return dx, dw, db
