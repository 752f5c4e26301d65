import numpy as np

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    d2 = a1 @ weights["w2"] + biases["b2"] - y
    d1 = (d2 @ weights["w2"].T) * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
