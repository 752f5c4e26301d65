# attack: flood
# expect: any
# must: answer within its budget though each reply holds 99,999 arrays
"""returns the right gradient plus 99,995 one-element arrays, each a member of the reply's npz"""

import numpy as np


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    grads = {f"extra{i}": np.zeros(1) for i in range(99_995)}
    grads.update(
        {
            "w1": X.T @ delta1,
            "b1": delta1.sum(axis=0),
            "w2": a1.T @ delta2,
            "b2": delta2.sum(axis=0),
        }
    )
    return grads
