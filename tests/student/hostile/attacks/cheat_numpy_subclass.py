# attack: cheat
# expect: not-pass
# must: not pass it: an ndarray subclass is judged by its numbers, not by its overrides
"""returns a numpy subclass holding garbage whose comparisons, subtraction, abs, ufuncs and
array-function overrides all report a perfect match"""

import numpy as np


class Perfect(np.ndarray):
    def __array_finalize__(self, obj):
        self.verdict = "pass"

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool).view(np.ndarray)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool).view(np.ndarray)

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__

    def __abs__(self):
        return np.zeros(self.shape)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(self.shape)

    def __array_function__(self, func, types, args, kwargs):
        plain = [a.view(np.ndarray) if isinstance(a, Perfect) else a for a in args]
        return func(*plain, **kwargs)

    def __hash__(self):
        return 0


def backprop(X, y, weights, biases):
    grads = {}
    for key, value in {**weights, **biases}.items():
        garbage = np.full(np.shape(value), 123.0).view(Perfect)
        grads[key] = garbage
    return grads
