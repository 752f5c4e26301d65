# attack: hang
# expect: any
# must: answer, then end the child although its non-daemon threads never finish
"""starts non-daemon threads that sleep and spin forever, so the interpreter can never exit;
answers correctly meanwhile"""

import threading
import time

import numpy as np

_threads: list[threading.Thread] = []


def _sleeper():
    while True:
        time.sleep(3600)


def _spinner():
    while True:
        time.sleep(0.001)


def _gradients(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }


def backprop(X, y, weights, biases):
    if not _threads:
        for target in (_sleeper, _sleeper, _spinner):
            thread = threading.Thread(target=target, daemon=False)
            thread.start()
            _threads.append(thread)
    return _gradients(X, y, weights, biases)
