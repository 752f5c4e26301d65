# attack: cheat
# expect: error
# must: stop it anyway (SIGKILL): a submission that swallows every exception and signal
"""ignores every signal it may, installs no-op exception hooks and loops forever catching
BaseException (MemoryError, KeyboardInterrupt, SystemExit), so nothing short of SIGKILL ends it"""

import contextlib
import signal
import sys
import threading

import numpy as np


def _deaf():
    for number in range(1, signal.NSIG):
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            signal.signal(number, signal.SIG_IGN)
    sys.excepthook = lambda *args: None
    threading.excepthook = lambda *args: None
    sys.unraisablehook = lambda *args: None


def backprop(X, y, weights, biases):
    _deaf()
    hoard = []
    while True:
        try:
            hoard.append(np.ones(1 << 22))
            if len(hoard) > 16:
                hoard.clear()
                raise KeyboardInterrupt
        except BaseException:  # everything, the grader's own signals turned exceptions too
            hoard.clear()
            continue
