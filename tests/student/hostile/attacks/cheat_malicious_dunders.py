# attack: cheat
# expect: not-pass
# must: not pass it: only real arrays of numbers count, whatever __array__ or __eq__ claim
"""returns objects whose __array__, __eq__, __float__, __len__ and __getitem__ lie, inside a
dict subclass whose lookups lie too"""

import numpy as np


class Liar:
    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, 1e300)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __float__(self):
        return 0.0

    def __len__(self):
        return self.shape[0] if self.shape else 0

    def __getitem__(self, index):
        return self

    def __iter__(self):
        return iter([self] * len(self))

    def __abs__(self):
        return 0.0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __lt__(self, other):
        return True

    __le__ = __lt__


class LyingDict(dict):
    def __getitem__(self, key):
        return Liar(())

    def get(self, key, default=None):
        return Liar(())

    def __contains__(self, key):
        return True


def backprop(X, y, weights, biases):
    return LyingDict({k: Liar(np.shape(v)) for k, v in {**weights, **biases}.items()})
