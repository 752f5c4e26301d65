# attack: escape
# expect: any
# must: give the submission no raw, packet or ICMP socket and no way to configure a network
"""opens raw IP, AF_PACKET and ICMP sockets, and asks netlink to bring the loopback up"""

import _socket
import ctypes
import struct

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
_found: list[str] = []

AF_PACKET, AF_NETLINK = 17, 16


def _opens(family, kind, protocol):
    try:
        sock = _socket.socket(family, kind, protocol)
    except OSError:
        return False
    sock.close()
    return True


def _loopback_up():
    """RTM_NEWLINK with IFF_UP for interface 1: needs CAP_NET_ADMIN in the namespace."""
    try:
        sock = _socket.socket(AF_NETLINK, _socket.SOCK_RAW, 0)
    except OSError:
        return False
    try:
        body = struct.pack("BxHiII", 0, 0, 1, 1, 1)  # ifinfomsg: index 1, IFF_UP
        header = struct.pack("IHHII", 16 + len(body), 16, 0x5, 1, 0)  # NLM_F_REQUEST|ACK
        sock.send(header + body)
        reply = sock.recv(4096)
    except OSError:
        return False
    finally:
        sock.close()
    error = struct.unpack("i", reply[16:20])[0] if len(reply) >= 20 else -1
    return error == 0


def _attack():
    opened = []
    if _opens(_socket.AF_INET, _socket.SOCK_RAW, _socket.IPPROTO_ICMP):
        opened.append("raw ICMP")
    if _opens(_socket.AF_INET, _socket.SOCK_RAW, _socket.IPPROTO_TCP):
        opened.append("raw TCP")
    if _opens(AF_PACKET, _socket.SOCK_RAW, 0x0300):
        opened.append("AF_PACKET")
    if _opens(_socket.AF_INET, _socket.SOCK_DGRAM, _socket.IPPROTO_ICMP):
        opened.append("ICMP datagram (ping)")
    if _loopback_up():
        opened.append("brought lo up through netlink")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.sethostname(b"hostile", 7) == 0:
        opened.append("sethostname")
    return ", ".join(opened)


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
