# attack: crash
# expect: not-pass
# must: survive an exception whose __str__ raises, or returns a non-string, while it is reported
"""raises an exception whose __str__ raises another exception (whose own __str__ returns an int)"""


class Worse(Exception):
    def __str__(self):
        return 42


class Bad(Exception):
    def __str__(self):
        raise Worse()


def backprop(X, y, weights, biases):
    raise Bad()
