# attack: cheat
# expect: not-pass
# must: not pass it: the grader's own backprop is not importable from the sandbox
"""finds the grader's checkout through /proc/1/cmdline and __file__, imports gradcheck's own
backprop with the guard removed and returns its answer; zeros when that fails"""

import glob
import importlib
import os
import sys

import numpy as np

NAME = "grad" + "check"


def _roots():
    roots = set(glob.glob("/work/*")) | {"/work/main", "/sandbox", "/sandbox/site"}
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None):
        roots.add(os.path.dirname(os.path.dirname(os.path.dirname(main.__file__))))
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            with open(cmdline, "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        for arg in args:
            if f"/{NAME}/" in arg:
                roots.add(arg[: arg.index(f"/{NAME}/")])
            if "site-packages" in arg:
                roots.add(arg[: arg.index("site-packages") + len("site-packages")])
    return sorted(r for r in roots if os.path.isdir(r))


def _reference():
    sys.meta_path[:] = [f for f in sys.meta_path if "Guard" not in type(f).__name__]
    sys.path[:0] = _roots()
    sys.modules.pop(NAME, None)
    try:
        module = importlib.import_module(NAME)
    except Exception:  # any failure means: no reference here
        return None
    return getattr(module, "backprop", None)


def backprop(X, y, weights, biases):
    reference = _reference()
    if reference is not None:
        return reference(X, y, weights, biases)
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
