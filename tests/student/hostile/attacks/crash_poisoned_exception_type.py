# attack: crash
# expect: not-pass
# must: report it: an exception class named with escapes, whose __repr__ raises
"""raises an exception of a class whose name holds ANSI escapes and a right-to-left override,
whose __repr__ raises and whose __cause__ chain loops"""

NAME = "\x1b[1;32mPASS\x1b[0m\u202e\x07"


def _raising_repr(self):
    raise RuntimeError("no repr for you")


def backprop(X, y, weights, biases):
    poisoned = type(NAME, (Exception,), {"__repr__": _raising_repr})
    error = poisoned("\x1b[2J message")
    other = poisoned("\x00 other")
    error.__cause__, other.__cause__ = other, error
    raise error
