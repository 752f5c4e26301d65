# expect: pass
"""correct, assignment-style layers.py with batchnorm, dropout, conv, sandwich layers, a solver and top-level script code"""

import matplotlib.pyplot as plt
import numpy as np
from cs231n.data_utils import load_CIFAR10
from cs231n.gradient_check import eval_numerical_gradient_array

plt.rcParams["figure.figsize"] = (10.0, 8.0)
data = load_CIFAR10("cs231n/datasets/cifar-10-batches-py")
for k, v in data.items():
    print(k, v.shape)
EPS = 1e-5


def affine_forward(x, w, b):
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass.                                #
    ###########################################################################
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(*x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = x * (x > 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout * (x > 0)
    return dx


def sigmoid_forward(x):
    out = np.where(
        x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))
    )
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    out = 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache * cache)


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    momentum = bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.zeros(x.shape[1]))
    if mode == "train":
        mu, var = x.mean(0), x.var(0)
        xhat = (x - mu) / np.sqrt(var + EPS)
        out = gamma * xhat + beta
        cache = (xhat, gamma, var)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + EPS) + beta
        cache = None
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, var = cache
    N = dout.shape[0]
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(0) - xhat * np.sum(dxhat * xhat, 0)) / (N * np.sqrt(var + EPS))
    return dx, np.sum(dout * xhat, 0), dout.sum(0)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(1)
    return loss, dx / N


def softmax_loss(x, y):
    N = x.shape[0]
    probs = np.exp(x - np.max(x, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def mse_loss(x, y):
    N = x.shape[0]
    return np.sum((x - y) ** 2) / (2 * N), (x - y) / N


class Solver:
    def __init__(self, model, data, lr=1e-3, num_epochs=10):
        self.model, self.data, self.lr, self.num_epochs = model, data, lr, num_epochs

    def train(self):
        for epoch in range(self.num_epochs):
            loss, grads = self.model.loss(self.data["X_train"], self.data["y_train"])
            for k, g in grads.items():
                self.model.params[k] -= self.lr * g
            print("(Epoch %d / %d) loss: %f" % (epoch + 1, self.num_epochs, loss))


np.random.seed(231)
x = np.random.randn(10, 2, 3)
w = np.random.randn(6, 5)
b = np.random.randn(5)
dout = np.random.randn(10, 5)
dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
_, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(dout, cache)
print("dx error: ", np.max(np.abs(dx - dx_num)))
