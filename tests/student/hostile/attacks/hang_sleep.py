# attack: hang
# expect: error
# must: stop it at the wall-clock limit: sleeping uses no CPU, so only a wall clock ends it
"""sleeps for a million seconds inside backprop"""

import time


def backprop(X, y, weights, biases):
    time.sleep(1_000_000)
    return {}
