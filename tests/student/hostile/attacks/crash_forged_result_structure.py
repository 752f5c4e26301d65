# attack: crash
# expect: not-pass
# must: answer for it: a malformed result structure is the submission's bad return
"""replaces the child's request handler so that every later result is a structure the decoder
does not expect: a float tag holding a word, a dict entry of three items, a tuple tag on a
number"""

import sys

import numpy as np

RESULT = {"$d": [["w1", {"$f": "not a number"}], ["b1", 1, 2], ["w2", {"$t": 7}]]}


def _forged(self, request, arrays, out):
    return {"ok": True, "result": RESULT, "mutated": 5}


def backprop(X, y, weights, biases):
    sys.modules["__main__"]._Session.call = _forged
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
