# attack: cheat
# expect: not-pass
# must: not pass it: torch and jax are out of reach even with the import guard removed
"""strips the import guard from sys.meta_path, adds every site-packages it can guess to sys.path
and lets torch or jax autograd compute the gradient; returns zeros when neither imports"""

import glob
import importlib
import os
import sys

import numpy as np

NAMES = ("to" + "rch", "ja" + "x")


def _site_packages():
    guesses = set(glob.glob("/work/*/.venv/lib/python3*/site-packages"))
    guesses.update(glob.glob("/usr/lib/python3*/site-packages"))
    guesses.update(glob.glob("/usr/local/lib/python3*/site-packages"))
    guesses.update(glob.glob("/usr/lib/python3/dist-packages"))
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            with open(cmdline, "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        for arg in args:
            if "site-packages" in arg:
                guesses.add(arg[: arg.index("site-packages") + len("site-packages")])
    return sorted(g for g in guesses if os.path.isdir(g))


def _engine():
    sys.meta_path[:] = [f for f in sys.meta_path if "Guard" not in type(f).__name__]
    sys.meta_path[:] = [f for f in sys.meta_path if "Stub" not in type(f).__name__]
    sys.path.extend(_site_packages())
    for name in NAMES:
        try:
            module = importlib.import_module(name)
        except Exception:  # any failure means: try the next engine
            continue
        if getattr(module, "__file__", None):
            return name, module
    return None, None


def backprop(X, y, weights, biases):
    name, module = _engine()
    if name == NAMES[0]:
        t = {k: module.tensor(v, requires_grad=True) for k, v in {**weights, **biases}.items()}
        a1 = module.sigmoid(module.tensor(X) @ t["w1"] + t["b1"])
        loss = 0.5 * ((a1 @ t["w2"] + t["b2"] - module.tensor(y)) ** 2).sum()
        loss.backward()
        return {k: v.grad.numpy() for k, v in t.items()}
    if name == NAMES[1]:
        numpy = importlib.import_module(NAMES[1] + ".numpy")

        def loss(p):
            a1 = 1 / (1 + numpy.exp(-(X @ p["w1"] + p["b1"])))
            return 0.5 * numpy.sum((a1 @ p["w2"] + p["b2"] - y) ** 2)

        grads = module.grad(loss)({**weights, **biases})
        return {k: np.asarray(v) for k, v in grads.items()}
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
