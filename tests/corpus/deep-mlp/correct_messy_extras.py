# expect: pass
"""correct, in a big file with dropout/batchnorm/conv/Adam extras, prints and a top-level training script"""

import json
import pickle

import matplotlib.pyplot as plt
import numpy as np
from tqdm import trange

SEED = 0
ACTIVATION = "relu"
LAYER_SIZES = [784, 128, 64, 10]
rng = np.random.default_rng(SEED)
with open("mnist.pkl", "rb") as fh:
    (X_train, y_train), (X_test, y_test) = pickle.load(fh)
config = json.load(open("config.json"))


def one_hot(labels, k):
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1
    return out


def init_network(sizes, rng):
    Ws = [rng.normal(0, np.sqrt(2 / m), (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(n) for n in sizes[1:]]
    return Ws, bs


def dropout_forward(x, p, rng):
    mask = (rng.random(x.shape) > p) / (1 - p)
    return x * mask, mask


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, gamma, eps)


def batchnorm_backward(dout, cache):
    xhat, var, gamma, eps = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (n * np.sqrt(var + eps))
    return dx, (dout * xhat).sum(0), dout.sum(0)


def conv2d_naive(img, kernel):
    kh, kw = kernel.shape
    out = np.zeros((img.shape[0] - kh + 1, img.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(img[i : i + kh, j : j + kw] * kernel)
    return out


class Adam:
    def __init__(self, lr=1e-3, b1=0.9, b2=0.999):
        self.lr, self.b1, self.b2, self.t = lr, b1, b2, 0
        self.m, self.v = None, None

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            mh = self.m[i] / (1 - self.b1**self.t)
            vh = self.v[i] / (1 - self.b2**self.t)
            p -= self.lr * mh / (np.sqrt(vh) + 1e-8)


def act_fn(z, activation):
    return {
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "relu": lambda: np.maximum(0, z),
        "leaky_relu": lambda: np.maximum(0.01 * z, z),
    }[activation]()


def act_grad(z, activation):
    if activation == "sigmoid":
        s = act_fn(z, "sigmoid")
        return s * (1 - s)
    elif activation == "tanh":
        return 1 - np.tanh(z) ** 2
    elif activation == "relu":
        return np.heaviside(z, 0.0)
    else:
        return np.where(z < 0, 0.01, 1.0)


def forward(X, weights, biases, activation, loss):
    cache = {"a": [X], "z": []}
    for i in range(len(weights)):
        z = np.dot(cache["a"][-1], weights[i]) + biases[i]
        cache["z"].append(z)
        last = i == len(weights) - 1
        if not last:
            cache["a"].append(act_fn(z, activation))
        else:
            cache["a"].append(1 / (1 + np.exp(-z)) if loss == "bce" else z)
    return cache


def compute_loss(out, y, loss):
    if loss == "mse":
        return 0.5 * np.sum((out - y) ** 2) / out.shape[0]
    p = np.clip(out, 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def backprop(X, y, weights, biases, activation, loss):
    cache = forward(X, weights, biases, activation, loss)
    out = cache["a"][-1]
    print(f"[backprop] depth={len(weights)} act={activation} loss={compute_loss(out, y, loss):.5f}")
    m = X.shape[0]
    if loss == "mse":
        delta = (out - y) / m
    else:
        delta = (out - y) / (m * y.shape[1])
    dW = [np.zeros(w.shape) for w in weights]
    db = [np.zeros(b.shape) for b in biases]
    for i in range(len(weights) - 1, -1, -1):
        dW[i] = np.dot(cache["a"][i].T, delta)
        db[i] = np.sum(delta, axis=0)
        if i != 0:
            delta = np.dot(delta, weights[i].T) * act_grad(cache["z"][i - 1], activation)
    print("[backprop] grad norms:", [round(float(np.linalg.norm(g)), 4) for g in dW])
    return dW, db


weights, biases = init_network(LAYER_SIZES, rng)
opt = Adam(lr=config["lr"])
Y = one_hot(y_train, 10)
losses = []
for epoch in trange(config["epochs"]):
    idx = rng.permutation(len(X_train))[:128]
    dW, db = backprop(X_train[idx], Y[idx], weights, biases, ACTIVATION, "bce")
    opt.step(weights + biases, dW + db)
    losses.append(
        compute_loss(
            forward(X_train[idx], weights, biases, ACTIVATION, "bce")["a"][-1], Y[idx], "bce"
        )
    )
plt.plot(losses)
plt.show()
