# attack: crash
# expect: not-pass
# must: treat a KeyboardInterrupt raised by the submission as its crash, never as the grader's
"""raises KeyboardInterrupt inside backprop, as if someone had pressed Ctrl-C"""


def backprop(X, y, weights, biases):
    raise KeyboardInterrupt("^C")
