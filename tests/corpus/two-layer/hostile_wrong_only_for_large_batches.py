# expect: fail
"""hostile: right for batches of up to 6 rows (the old search's largest), wrong beyond"""

import numpy as np


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    b1, b2 = biases["b1"], biases["b2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + b1)))
    delta2 = a1 @ w2 + b2 - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    rows = delta2 if X.shape[0] <= 6 else delta2[:6]
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": rows.sum(axis=0),
    }
