# attack: flood
# expect: not-pass
# must: cap a failure message in the grader too: the child's own cap is the child's to lift
"""replaces the child's request handler while the module loads, so that every call is answered
with a crash whose message is 8 MB long, past the 2,000 characters the child would keep"""

import sys

MESSAGE = "flood " * (8 * (1 << 20) // 6)


def _forged(self, request, arrays, out):
    return {"ok": False, "label": "crash", "message": MESSAGE, "traceback": MESSAGE}


class _Loader:
    sys.modules["__main__"]._Session.call = _forged


def backprop(X, y, weights, biases):
    return {}
