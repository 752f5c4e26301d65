# attack: flood
# expect: not-pass
# must: keep a short excerpt of a 50 MB exception message, not the message
"""raises an exception whose message is 50 MB long"""


def backprop(X, y, weights, biases):
    raise ValueError("flood " * (50 * (1 << 20) // 6))
