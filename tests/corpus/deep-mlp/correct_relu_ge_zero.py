# expect: pass
"""correct, lambdas at module level and ReLU/leaky derivatives taken as 1 at z == 0 (>=)"""

import numpy as np

LEAK = 0.01
sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))
relu = lambda z: np.maximum(z, 0)
d_relu = lambda z: (z >= 0) * 1.0
leaky = lambda z: np.where(z >= 0, z, LEAK * z)
d_leaky = lambda z: np.where(z >= 0, 1.0, LEAK)


def d_sigmoid(z):
    s = sigmoid(z)
    return s - s * s


def d_tanh(z):
    return 1.0 / np.cosh(z) ** 2


def backprop(X, y, weights, biases, activation, loss):
    fns = {
        "sigmoid": (sigmoid, d_sigmoid),
        "tanh": (np.tanh, d_tanh),
        "relu": (relu, d_relu),
        "leaky_relu": (leaky, d_leaky),
    }
    g, g_prime = fns[activation]
    pre = []
    post = [X]
    for W, b in zip(weights[:-1], biases[:-1]):
        pre.append(post[-1] @ W + b)
        post.append(g(pre[-1]))
    z_out = post[-1] @ weights[-1] + biases[-1]
    if loss == "mse":
        delta = (z_out - y) / len(X)
    else:
        delta = (sigmoid(z_out) - y) / (y.shape[0] * y.shape[1])
    grads_w, grads_b = [], []
    for l in range(len(weights) - 1, -1, -1):
        grads_w.insert(0, post[l].T @ delta)
        grads_b.insert(0, delta.sum(0))
        if l:
            delta = delta @ weights[l].T * g_prime(pre[l - 1])
    return tuple(grads_w), tuple(grads_b)
