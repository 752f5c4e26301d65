# attack: escape
# expect: any
# must: give the submission no network: TCP, UDP and IPv6 reach nothing, even through _socket
"""bypasses the socket guard with _socket and connects to DNS, the cloud metadata address and
the host's loopback services"""

import _socket
import contextlib

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []

TCP = (
    ("1.1.1.1", 53),
    ("8.8.8.8", 53),
    ("169.254.169.254", 80),
    ("10.0.2.2", 80),
    ("172.17.0.1", 2375),
    ("127.0.0.1", 22),
    ("127.0.0.1", 2024),
    ("127.0.0.1", 8080),
)


def _tcp(family, address):
    sock = _socket.socket(family, _socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        sock.connect(address)
    except OSError:
        return False
    finally:
        sock.close()
    return True


def _attack():
    reached = [f"tcp {a}" for a in TCP if _tcp(_socket.AF_INET, a)]
    if _tcp(_socket.AF_INET6, ("::1", 22)):
        reached.append("tcp6 ::1:22")
    udp = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        udp.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", ("8.8.8.8", 53))
        reached.append("udp 8.8.8.8:53 (sent)")
    udp.close()
    with contextlib.suppress(OSError):
        reached.append(f"resolved {_socket.getaddrinfo('example.com', 80)[:1]}")
    return ", ".join(reached)


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
