# expect: partial batch_reduction
"""bug in one of two: the naive SVM is right, the vectorised one forgets to divide dW by
the number of training examples (the loss is averaged)"""

import numpy as np


def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    loss = 0.0
    for i in range(X.shape[0]):
        scores = X[i].dot(W)
        for j in range(W.shape[1]):
            if j != y[i]:
                margin = scores[j] - scores[y[i]] + 1
                if margin > 0:
                    loss += margin
                    dW[:, j] += X[i]
                    dW[:, y[i]] -= X[i]
    loss = loss / X.shape[0] + reg * np.sum(W * W)
    dW = dW / X.shape[0] + 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[range(num_train), y]
    margins = np.maximum(0, scores - correct[:, None] + 1)
    margins[range(num_train), y] = 0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    X_mask = np.zeros(scores.shape)
    X_mask[margins > 0] = 1
    X_mask[range(num_train), y] = -np.sum(X_mask, axis=1)
    dW = X.T.dot(X_mask) + 2 * reg * W
    return loss, dW
