# expect: pass
"""correct, script-style: mnist_loader/_pickle-as-cPickle/gzip imports, training at top level, prints inside backprop"""

import gzip
import random
import sys

import _pickle as cPickle
import matplotlib.pyplot as plt
import mnist_loader
import numpy as np

training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
training_data = list(training_data)
DEBUG = True


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def load_raw(path="mnist.pkl.gz"):
    with gzip.open(path, "rb") as f:
        return cPickle.load(f)


class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
        if DEBUG:
            print("built network", sizes)

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        if DEBUG:
            print("cost:", 0.5 * np.linalg.norm(activations[-1] - y) ** 2)
        nabla_b = []
        nabla_w = []
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        for l in range(1, self.num_layers):
            nabla_b.insert(0, delta)
            nabla_w.insert(0, np.dot(delta, activations[-l - 1].T))
            if l < self.num_layers - 1:
                delta = np.dot(self.weights[-l].T, delta) * sigmoid_prime(zs[-l - 1])
        return nabla_b, nabla_w

    def cost_derivative(self, output_activations, y):
        return output_activations - y

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        for epoch in range(epochs):
            random.shuffle(training_data)
            for k in range(0, len(training_data), mini_batch_size):
                batch = training_data[k : k + mini_batch_size]
                grads = [self.backprop(x, y) for x, y in batch]
                for i in range(len(self.weights)):
                    self.weights[i] -= eta / len(batch) * sum(g[1][i] for g in grads)
                    self.biases[i] -= eta / len(batch) * sum(g[0][i] for g in grads)
            print("epoch", epoch, "done")


net = Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0)
plt.imshow(net.weights[0][0].reshape(28, 28))
plt.show()
if __name__ == "__main__":
    sys.exit(0)
