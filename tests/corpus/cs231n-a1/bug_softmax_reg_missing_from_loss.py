# expect: fail missing_regularization
"""bug: the regularisation gradient is there but the loss never gets its reg·ΣW² term"""

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        scores -= np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
        probs[y[i]] -= 1
        dW += np.outer(X[i], probs)
    return loss / N, dW / N + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    probs[np.arange(N), y] -= 1
    return loss, X.T @ probs / N + 2 * reg * W
