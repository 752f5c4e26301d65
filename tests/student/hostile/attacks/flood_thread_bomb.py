# attack: flood
# expect: any
# must: cap the threads one sandbox may start and still answer
"""starts up to 2,000 threads that never end (daemon and not), swallowing the error when no
more can start; answers correctly"""

import threading
import time

import numpy as np

_threads: list[threading.Thread] = []


def _forever():
    while True:
        time.sleep(60)


def backprop(X, y, weights, biases):
    if not _threads:
        for i in range(2000):
            thread = threading.Thread(target=_forever, daemon=i % 2 == 0)
            try:
                thread.start()
            except RuntimeError:
                break
            _threads.append(thread)
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
