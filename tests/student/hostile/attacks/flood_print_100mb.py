# attack: flood
# expect: any
# must: keep a bounded excerpt of what it printed (never 100 MB) and grade it as usual
"""prints 100 MB in 1 MB lines on its first call, then answers correctly"""

import numpy as np

_printed: list[bool] = []


def backprop(X, y, weights, biases):
    if not _printed:
        _printed.append(True)
        line = "flood " * ((1 << 20) // 6)
        for _ in range(100):
            print(line)
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
