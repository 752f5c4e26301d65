# attack: crash
# expect: not-pass
# must: answer for it: a reply naming a label the grader does not know is the submission's fault
"""replaces the child's request handler so that every later reply is a failure with the label
'pwned', which is no label of the grader's"""

import sys

import numpy as np


def _forged(self, request, arrays, out):
    return {"ok": False, "label": "pwned", "message": "forged"}


def backprop(X, y, weights, biases):
    sys.modules["__main__"]._Session.call = _forged
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
