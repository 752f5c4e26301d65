# attack: flood
# expect: not-pass
# must: call a dict of a million entries a bad return, quickly
"""returns a dict of a million string keys besides w1, b1, w2 and b2"""

import numpy as np


def backprop(X, y, weights, biases):
    grads = {f"key{i}": i for i in range(1_000_000)}
    grads.update({k: np.zeros_like(v) for k, v in {**weights, **biases}.items()})
    return grads
