# attack: flood
# expect: not-pass
# must: refuse a 200 MB reply without reading it, and say so
"""returns a 200 MB array as w1's gradient"""

import numpy as np


def backprop(X, y, weights, biases):
    return {
        "w1": np.ones(25_000_000),
        "b1": np.zeros_like(biases["b1"]),
        "w2": np.zeros_like(weights["w2"]),
        "b2": np.zeros_like(biases["b2"]),
    }
