# attack: cheat
# expect: not-pass
# must: not pass it: a memorised answer is still compared with the reference
"""a noisy gradient (relative error 1e-3) memorised by the SHA-256 of its inputs, so that the
grader's repeated call sees the same numbers and cannot call it nondeterministic"""

import hashlib

import numpy as np

_memory: dict[str, dict] = {}


def backprop(X, y, weights, biases):
    digest = hashlib.sha256()
    for value in (X, y, weights["w1"], biases["b1"], weights["w2"], biases["b2"]):
        digest.update(np.ascontiguousarray(value).tobytes())
    key = digest.hexdigest()
    if key not in _memory:
        w1, w2 = weights["w1"], weights["w2"]
        a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
        delta2 = a1 @ w2 + biases["b2"] - y
        delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
        exact = {
            "w1": X.T @ delta1,
            "b1": delta1.sum(axis=0),
            "w2": a1.T @ delta2,
            "b2": delta2.sum(axis=0),
        }
        rng = np.random.default_rng()
        _memory[key] = {
            k: v * (1 + 1e-3 * rng.standard_normal(v.shape)) + 1e-3 for k, v in exact.items()
        }
    return {k: v.copy() for k, v in _memory[key].items()}
