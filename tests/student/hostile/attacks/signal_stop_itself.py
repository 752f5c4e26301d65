# attack: signal
# expect: error
# must: end it with a timeout: a stopped child answers nothing, and SIGKILL still reaches it
"""sends SIGSTOP to itself (and to its process group) in the middle of backprop"""

import contextlib
import os
import signal


def backprop(X, y, weights, biases):
    os.kill(os.getpid(), signal.SIGSTOP)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgid(0), signal.SIGSTOP)
    return {}
