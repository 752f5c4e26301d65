# expect: pass
"""correct, notebook-style: plotting/IO imports, data loading, a training loop and plots at top level"""

import os
import sys
import time

import h5py
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from scipy.special import expit
from tqdm import tqdm

np.random.seed(1234)
data = np.load("data.npz")
X_train, y_train = data["X"], data["y"]
print("training set:", X_train.shape, y_train.shape)

HIDDEN = 16
LEARNING_RATE = 0.05
EPOCHS = 300
VERBOSE = True


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_scipy(z):
    # faster on big arrays, only used for plotting below
    return expit(z)


def init_params(D, H, K):
    weights = {"w1": np.random.randn(D, H) * 0.1, "w2": np.random.randn(H, K) * 0.1}
    biases = {"b1": np.zeros(H), "b2": np.zeros(K)}
    return weights, biases


def forward(X, weights, biases):
    z1 = np.dot(X, weights["w1"]) + biases["b1"]
    a1 = sigmoid(z1)
    return a1, np.dot(a1, weights["w2"]) + biases["b2"]


def compute_loss(y_pred, y):
    return 0.5 * np.sum((y_pred - y) ** 2)


def backprop(X, y, weights, biases):
    a1, y_pred = forward(X, weights, biases)
    if VERBOSE:
        print("loss =", compute_loss(y_pred, y))
    d_out = y_pred - y
    d_hidden = np.dot(d_out, weights["w2"].T) * a1 * (1 - a1)
    grads = dict()
    grads["w2"] = np.dot(a1.T, d_out)
    grads["b2"] = np.sum(d_out, axis=0)
    grads["w1"] = np.dot(X.T, d_hidden)
    grads["b1"] = np.sum(d_hidden, axis=0)
    return grads


def sgd_step(weights, biases, grads, lr):
    for k in weights:
        weights[k] = weights[k] - lr * grads[k]
    for k in biases:
        biases[k] = biases[k] - lr * grads[k]


def save_weights(path, weights, biases):
    with h5py.File(path, "w") as f:
        for k, v in {**weights, **biases}.items():
            f.create_dataset(k, data=v)


weights, biases = init_params(X_train.shape[1], HIDDEN, y_train.shape[1])
history = []
start = time.time()
for epoch in tqdm(range(EPOCHS)):
    g = backprop(X_train, y_train, weights, biases)
    sgd_step(weights, biases, g, LEARNING_RATE)
    history.append(compute_loss(forward(X_train, weights, biases)[1], y_train))
print("took", time.time() - start, "s")

plt.plot(history)
plt.xlabel("epoch")
plt.ylabel("loss")
plt.savefig(os.path.join("figures", "loss.png"))
plt.show()
Image.fromarray((255 * sigmoid_scipy(weights["w1"])).astype(np.uint8)).save("w1.png")
save_weights("weights.h5", weights, biases)

if __name__ == "__main__":
    print("final loss", history[-1])
    sys.exit(0)
