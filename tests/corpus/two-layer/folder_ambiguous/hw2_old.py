def backprop(X, y, weights, biases):
    return None
