# attack: hang
# expect: not-pass
# must: survive the child's stack overflow (a segfault, or a RecursionError) and say so
"""lifts the recursion limit to 10**8 and recurses through a C-level call until the C stack
overflows"""

import sys


def _down(n):
    return _down.__call__(n + 1)


def backprop(X, y, weights, biases):
    sys.setrecursionlimit(10**8)
    return _down(0)
