# expect: pass
"""correct softmax.py: the naive version loops over examples and classes with the
max-subtraction trick; the vectorised one uses einsum and log-sum-exp, and prints its shapes"""

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    N = X.shape[0]
    C = W.shape[1]
    for i in range(N):
        f = X[i] @ W
        f = f - np.max(f)
        denom = 0.0
        for j in range(C):
            denom += np.exp(f[j])
        loss += -f[y[i]] + np.log(denom)
        for j in range(C):
            p = np.exp(f[j]) / denom
            dW[:, j] += (p - (j == y[i])) * X[i]
    loss = loss / N + reg * np.sum(W**2)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = np.einsum("nd,dc->nc", X, W)
    scores -= scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scores).sum(axis=1))
    loss = np.mean(log_norm - scores[np.arange(N), y]) + reg * np.einsum("dc,dc->", W, W)
    probs = np.exp(scores - log_norm[:, None])
    probs[np.arange(N), y] -= 1
    dW = np.einsum("nd,nc->dc", X, probs) / N + 2 * reg * W
    print("dW shape", dW.shape)
    return loss, dW
