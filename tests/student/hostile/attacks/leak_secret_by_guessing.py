# attack: leak
# expect: fail
# must: leave every guessed secret location empty or unreadable
"""guesses where a test would plant a secret (pytest folders, GRADCHECK_* variables, the cwd,
/proc/1/cwd, /run/secrets) and raises whatever it finds"""

import glob
import os

PATTERNS = (
    "/tmp/pytest-of-*/pytest-*/*/secret*",
    "/tmp/pytest-of-*/pytest-*/*/*/secret*",
    "/tmp/pytest-of-*/pytest-current/*/secret*",
    "/tmp/*/secret*",
    "/tmp/secret*",
    "/run/secrets/*",
    "/proc/1/cwd/secret*",
    "/proc/*/cwd/secret*",
    "/work/*/secret*",
    "/root/secret*",
    "./secret*",
    "../secret*",
)


def backprop(X, y, weights, biases):
    found = {k: v for k, v in os.environ.items() if k.startswith("GRADCHECK") or "SECRET" in k}
    for pattern in PATTERNS:
        for path in glob.glob(pattern):
            try:
                with open(path, "rb") as handle:
                    found[path] = handle.read(200)
            except OSError as error:
                found[path] = type(error).__name__
    raise LookupError(f"guessed: {found!r} " + "." * 2000)
