# attack: flood
# expect: error
# must: stop it at the memory limit (memory_limit), and grade the next submission as usual
"""allocates and touches 128 MB blocks until the address-space limit stops it"""

import numpy as np


def backprop(X, y, weights, biases):
    blocks = []
    while True:
        blocks.append(np.ones(1 << 24))
