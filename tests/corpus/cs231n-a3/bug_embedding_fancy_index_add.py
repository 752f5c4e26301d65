# expect: fail lost_accumulation
"""bug: word_embedding_backward does dW[x] += dout; with fancy indexing a word that appears several times keeps only one of its gradients instead of their sum (np.add.at was due)"""

import numpy as np


def word_embedding_forward(x, W):
    out, cache = None, None
    out = W[x, :]
    cache = (x, W)
    return out, cache


def word_embedding_backward(dout, cache):
    dW = None
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] += dout
    return dW
