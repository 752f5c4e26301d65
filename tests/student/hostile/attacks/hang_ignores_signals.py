# attack: hang
# expect: error
# must: stop it with a signal it cannot ignore: SIGTERM, SIGINT, SIGALRM, SIGXCPU are ignored
"""ignores SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF and SIGUSR1/2, raises
its own CPU-time limit where it can, and spins"""

import resource
import signal


def backprop(X, y, weights, biases):
    for sig in (
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGALRM,
        signal.SIGXCPU,
        signal.SIGVTALRM,
        signal.SIGPROF,
        signal.SIGUSR1,
        signal.SIGUSR2,
    ):
        signal.signal(sig, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    while True:
        pass
