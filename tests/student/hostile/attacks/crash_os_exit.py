# attack: crash
# expect: error
# must: say the process died (process_died) and grade the next submission as usual
"""calls os._exit(3) inside backprop: no cleanup, no reply"""

import os


def backprop(X, y, weights, biases):
    os._exit(3)
