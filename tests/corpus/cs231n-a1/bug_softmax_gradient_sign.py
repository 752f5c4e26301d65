# expect: fail sign_flip
"""bug: the softmax gradient is written as (onehot − p) instead of (p − onehot), in both
versions; with reg = 0 it is exactly −1 × the gradient"""

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(X.shape[0]):
        s = X[i].dot(W)
        s -= s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss -= np.log(p[y[i]])
        onehot = np.zeros_like(p)
        onehot[y[i]] = 1
        dW += np.outer(X[i], onehot - p)
    loss = loss / X.shape[0] + reg * np.sum(W * W)
    dW = dW / X.shape[0] - 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X.dot(W)
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean() + reg * np.sum(W * W)
    onehot = np.zeros_like(p)
    onehot[np.arange(N), y] = 1
    dW = X.T.dot(onehot - p) / N - 2 * reg * W
    return loss, dW
