# expect: pass
"""correct, exported notebook: star import from the course utils, h5py/PIL/scipy imports, plots and training at top level"""

import time

import h5py
import matplotlib.pyplot as plt
import numpy as np
import scipy
from dnn_app_utils_v3 import *
from PIL import Image
from scipy import ndimage

plt.rcParams["figure.figsize"] = (5.0, 4.0)
plt.rcParams["image.interpolation"] = "nearest"
plt.rcParams["image.cmap"] = "gray"
np.random.seed(1)

layers_dims = [12288, 20, 7, 5, 1]
learning_rate = 0.0075
my_image = "my_image.jpg"
my_label_y = [1]


def load_data():
    train = h5py.File("datasets/train_catvnoncat.h5", "r")
    test = h5py.File("datasets/test_catvnoncat.h5", "r")
    return (
        np.array(train["train_set_x"][:]),
        np.array(train["train_set_y"][:]).reshape(1, -1),
        np.array(test["test_set_x"][:]),
        np.array(test["test_set_y"][:]).reshape(1, -1),
        np.array(test["list_classes"][:]),
    )


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0, Z), Z


def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(
            layer_dims[l - 1]
        )
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_activation_forward(A_prev, W, b, activation):
    Z = W.dot(A_prev) + b
    linear_cache = (A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    else:
        A, activation_cache = relu(Z)
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(
            A, parameters["W%s" % l], parameters["b%s" % l], "relu"
        )
        caches.append(cache)
    AL, cache = linear_activation_forward(
        A, parameters["W%s" % L], parameters["b%s" % L], "sigmoid"
    )
    caches.append(cache)
    # print("AL shape", AL.shape)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(AL), Y) + np.multiply(np.log(1 - AL), 1 - Y)
    return float(np.squeeze(-np.sum(logprobs) / m))


def linear_activation_backward(dA, cache, activation):
    (A_prev, W, b), activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    else:
        dZ = sigmoid_backward(dA, activation_cache)
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    print("backward pass through", L, "layers")
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA = dAL
    for l in reversed(range(L)):
        act = "sigmoid" if l == L - 1 else "relu"
        dA, grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_activation_backward(
            dA, caches[l], act
        )
        grads["dA" + str(l)] = dA
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] -= learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] -= learning_rate * grads["db" + str(l + 1)]
    return parameters


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    costs = []
    parameters = initialize_parameters_deep(layers_dims)
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
        if print_cost and i % 100 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
            costs.append(cost)
    return parameters, costs


def predict(X, y, parameters):
    probas, _ = L_model_forward(X, parameters)
    p = (probas > 0.5).astype(int)
    print("Accuracy: " + str(np.mean(p == y)))
    return p


train_x_orig, train_y, test_x_orig, test_y, classes = load_data()
train_x = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255.0
test_x = test_x_orig.reshape(test_x_orig.shape[0], -1).T / 255.0
tic = time.time()
parameters, costs = L_layer_model(
    train_x, train_y, layers_dims, num_iterations=2500, print_cost=True
)
print("training took", time.time() - tic)
plt.plot(np.squeeze(costs))
plt.ylabel("cost")
plt.title("Learning rate =" + str(learning_rate))
plt.show()
pred_train = predict(train_x, train_y, parameters)
image = np.array(Image.open("images/" + my_image).resize((64, 64)))
my_image_flat = image.reshape((64 * 64 * 3, 1)) / 255.0
my_predicted_image = predict(my_image_flat, my_label_y, parameters)
plt.imshow(image)
print(
    "y = "
    + str(np.squeeze(my_predicted_image))
    + ', your L-layer model predicts a "'
    + classes[int(np.squeeze(my_predicted_image))].decode("utf-8")
    + '" picture.'
)
