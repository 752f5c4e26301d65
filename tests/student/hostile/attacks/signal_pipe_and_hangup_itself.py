# attack: signal
# expect: not-pass
# must: say the child died (killed by a signal), and grade the next submission as usual
"""closes its side of the reply pipe and raises SIGPIPE, SIGHUP and SIGTERM against itself"""

import os
import signal


def backprop(X, y, weights, biases):
    for fd in range(3, 64):
        if fd != 2:
            try:
                os.close(fd)
            except OSError:
                continue
    os.kill(os.getpid(), signal.SIGPIPE)
    os.kill(os.getpid(), signal.SIGHUP)
    os.kill(os.getpid(), signal.SIGTERM)
    return {}
