# attack: escape
# expect: any
# must: leave no AF_UNIX socket of the host reachable: not in /run, /var/run, /tmp or abstract
"""connects AF_UNIX sockets to docker, dbus, systemd, X11 and every socket in /proc/net/unix"""

import _socket
import glob

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []

PATHS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/run/systemd/journal/socket",
    "/tmp/.X11-unix/X0",
)


def _targets():
    targets = list(PATHS)
    for pattern in ("/run/**/*", "/var/run/**/*", "/tmp/**/*", "/run/user/*/bus"):
        targets += glob.glob(pattern, recursive=True)
    try:
        with open("/proc/net/unix") as handle:
            rows = handle.read().splitlines()[1:]
    except OSError:
        rows = []
    for row in rows:
        fields = row.split()
        if len(fields) >= 8:
            name = fields[7]
            targets.append("\0" + name[1:] if name.startswith("@") else name)
    targets += ["\0/tmp/.X11-unix/X0", "\0/containerd-shim", "\0dbus-abstract"]
    return targets


def _attack():
    reached = []
    for target in _targets():
        for kind in (_socket.SOCK_STREAM, _socket.SOCK_DGRAM, _socket.SOCK_SEQPACKET):
            sock = _socket.socket(_socket.AF_UNIX, kind)
            sock.settimeout(0.5)
            try:
                sock.connect(target)
            except OSError:
                continue
            finally:
                sock.close()
            reached.append(repr(target))
            break
    return f"connected to {reached[:20]}" if reached else ""


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
        raise ConnectionError(f"{SUCCESS}: {_found[0]}")
    return _gradients(X, y, weights, biases)
