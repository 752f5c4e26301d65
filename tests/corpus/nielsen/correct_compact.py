# expect: pass
"""correct, compact backprop with explicit forward indices and a stable sigmoid"""

import numpy as np


def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


class Network(object):
    def __init__(self, sizes):
        self.sizes = list(sizes)
        self.weights = [np.zeros((b, a)) for a, b in zip(sizes, sizes[1:])]
        self.biases = [np.zeros((b, 1)) for b in sizes[1:]]

    def backprop(self, x, y):
        n = len(self.weights)
        a = [x]
        for i in range(n):
            a.append(sigmoid(self.weights[i] @ a[i] + self.biases[i]))
        nabla_b = [None] * n
        nabla_w = [None] * n
        delta = (a[n] - y) * a[n] * (1 - a[n])
        for i in range(n - 1, -1, -1):
            nabla_b[i] = delta
            nabla_w[i] = delta @ a[i].T
            if i > 0:
                delta = (self.weights[i].T @ delta) * a[i] * (1 - a[i])
        return nabla_b, nabla_w
