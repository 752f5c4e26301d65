"""The built-in assignments. Importing this module registers them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gradcheck.student.contract import Assignment
from gradcheck.student.declaration import declared_assignment
from gradcheck.student.layers import layer_checks
from gradcheck.student.networks import CourseraCheck, DeepMLPCheck, NielsenCheck, TwoLayerCheck
from gradcheck.student.registry import register_assignment

__all__ = ["PRESETS"]

register_assignment(
    Assignment(
        "two-layer",
        "The seed's two-layer network",
        "backprop(X, y, weights, biases) -> dict\n"
        "X (B, D), y (B, K), weights = {'w1': (D, H), 'w2': (H, K)},\n"
        "  biases = {'b1': (H,), 'b2': (K,)}\n"
        "a1 = sigmoid(X @ w1 + b1), y_pred = a1 @ w2 + b2,\n"
        "  L = ½·Σ (y_pred − y)² over batch and outputs\n"
        "returns the gradients under the keys w1, b1, w2, b2, with the same shapes",
        (TwoLayerCheck(),),
    )
)
register_assignment(
    Assignment(
        "deep-mlp",
        "A dense network of any depth",
        "backprop(X, y, weights, biases, activation, loss) -> (dW, db)\n"
        "weights[l] (n_l, n_{l+1}), biases[l] (n_{l+1},), l = 0 … L−1, L ≥ 1\n"
        "hidden layers: activation in sigmoid, tanh, relu, leaky_relu (slope 0.01 for z < 0)\n"
        "output: linear for loss 'mse', sigmoid for loss 'bce'\n"
        "mse: L = ½·Σ (ŷ − y)² / B\n"
        "bce: mean over batch and outputs of −(y log p + (1 − y) log(1 − p))\n"
        "returns lists dW, db matching weights and biases",
        (DeepMLPCheck(),),
    )
)
register_assignment(
    Assignment(
        "coursera",
        "Column-major L-layer network (a popular deep-learning course)",
        "L_model_forward(X, parameters) -> (AL, caches); L_model_backward(AL, Y, caches) -> grads\n"
        "parameters = {'W1': (n1, n0), 'b1': (n1, 1), …}, X (n0, m)\n"
        "ReLU hidden layers, sigmoid output\n"
        "J = −(1/m)·Σ [Y log AL + (1 − Y) log(1 − AL)]; grads has keys dW1, db1, …, dWL, dbL",
        (CourseraCheck(),),
    )
)
register_assignment(
    Assignment(
        "nielsen",
        "Per-example Network class (a popular online book)",
        "Network(sizes) with weights [(n_{l+1}, n_l)] and biases [(n_{l+1}, 1)]\n"
        "  (the grader sets both)\n"
        "Network.backprop(x, y) -> (nabla_b, nabla_w) for one example, x (n0, 1), y (nL, 1)\n"
        "every layer sigmoid, C = ½‖a − y‖²",
        (NielsenCheck(),),
    )
)
register_assignment(
    Assignment(
        "layers",
        "Modular layers: (out, cache) forward and backward(dout, cache) functions",
        "affine_forward(x, w, b) -> (out, cache); affine_backward(dout, cache) -> (dx, dw, db)\n"
        "  x (N, d1, …, dk) flattened to (N, D), w (D, M), b (M,); dx has the shape of x\n"
        "relu_forward / relu_backward, sigmoid_forward / sigmoid_backward, tanh_forward / "
        "tanh_backward: forward(x) -> (out, cache), backward(dout, cache) -> dx\n"
        "softmax_loss(x, y) -> (loss, dx): x (N, C) scores, y (N,) integer labels, mean over N\n"
        "mse_loss(x, y) -> (loss, dx): loss = ½·Σ (x − y)² / N\n"
        "every function present is checked; a missing one scores 0 without failing the verdict",
        layer_checks(),
        partial=True,
    )
)

# The course presets, declared in TOML like an instructor's own assignment.
PRESETS = Path(__file__).with_name("presets")
for _path in sorted(PRESETS.glob("*.toml")):
    register_assignment(declared_assignment(tomllib.loads(_path.read_text()), _path.name))
