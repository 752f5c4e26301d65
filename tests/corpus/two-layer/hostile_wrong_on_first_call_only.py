# expect: fail nondeterministic
"""hostile: a wrong answer on the first call that matters (X not all zeros), right ever after"""

import numpy as np

_calls = [0]


def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    b1, b2 = biases["b1"], biases["b2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + b1)))
    delta2 = a1 @ w2 + b2 - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    wrong = 1.0
    if _calls[0] == 0 and np.any(X != 0):
        _calls[0] = 1
        wrong = 2.0
    return {
        "w1": X.T @ delta1 * wrong,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
