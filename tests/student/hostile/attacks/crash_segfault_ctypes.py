# attack: crash
# expect: error
# must: say the process died of SIGSEGV, with no traceback of the grader's
"""reads through a pointer to address 1 with ctypes, which segfaults the interpreter"""

import ctypes


def backprop(X, y, weights, biases):
    return ctypes.cast(1, ctypes.POINTER(ctypes.c_char))[0]
