# attack: crash
# expect: any
# must: answer: a SystemExit raised from __del__ is only ever printed, never a reply
"""returns the right gradient and leaves behind objects whose __del__ raises SystemExit and
KeyboardInterrupt when the grader's child lets go of them"""

import numpy as np


class Grenade:
    def __init__(self, kind):
        self.kind = kind

    def __del__(self):
        raise self.kind("raised from __del__")


def backprop(X, y, weights, biases):
    Grenade(SystemExit)
    Grenade(KeyboardInterrupt)
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    grads = {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }
    grads["__grenade__"] = Grenade(SystemExit)
    return grads
