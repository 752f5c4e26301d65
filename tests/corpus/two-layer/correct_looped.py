# expect: pass
"""correct, loops over the examples of the batch and accumulates outer products"""

import numpy as np


def sigmoid(z):
    # split by sign so exp never overflows
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def backprop(X, y, weights, biases):
    w1 = weights["w1"]
    w2 = weights["w2"]
    b1 = biases["b1"]
    b2 = biases["b2"]

    dw1 = np.zeros_like(w1)
    db1 = np.zeros_like(b1)
    dw2 = np.zeros_like(w2)
    db2 = np.zeros_like(b2)

    for i in range(X.shape[0]):
        x_i = X[i]
        h = sigmoid(np.dot(x_i, w1) + b1)
        out = np.dot(h, w2) + b2
        err = out - y[i]
        dw2 += np.outer(h, err)
        db2 += err
        back = np.dot(w2, err) * h * (1 - h)
        dw1 += np.outer(x_i, back)
        db1 += back

    return {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
