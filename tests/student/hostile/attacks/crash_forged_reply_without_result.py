# attack: crash
# expect: not-pass
# must: answer for it: an 'ok' reply to a call that carries no result is a bad return
"""replaces the child's request handler so that every later call is answered {"ok": true} and
nothing else"""

import sys

import numpy as np


def _forged(self, request, arrays, out):
    return {"ok": True}


def backprop(X, y, weights, biases):
    sys.modules["__main__"]._Session.call = _forged
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
