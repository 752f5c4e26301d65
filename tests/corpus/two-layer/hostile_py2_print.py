# expect: error syntax_error
"""python 2 submission: uses the print statement"""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(np.dot(X, weights["w1"]) + biases["b1"])
    y_pred = np.dot(a1, weights["w2"]) + biases["b2"]
    d2 = y_pred - y
    print "loss:", 0.5 * np.sum(d2 ** 2)
    d1 = np.dot(d2, weights["w2"].T) * a1 * (1 - a1)
    return {"w1": np.dot(X.T, d1), "b1": d1.sum(0), "w2": np.dot(a1.T, d2), "b2": d2.sum(0)}
