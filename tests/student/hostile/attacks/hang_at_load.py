# attack: hang
# expect: error
# must: time out while loading: a class body runs at import, and it never ends
"""a class body, which the grader must execute to load the module, that loops forever"""

import numpy as np


class Model:
    weights = np.zeros(3)
    while True:
        weights = weights + 1


def backprop(X, y, weights, biases):
    return {}
