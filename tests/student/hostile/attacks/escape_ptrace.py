# attack: escape
# expect: any
# must: let the submission trace or read the memory of no process but its own
"""PTRACE_SEIZEs, process_vm_readv's and opens /proc/N/mem of pid 1, its parent and every pid"""

import ctypes
import os

import numpy as np

SUCCESS = "HOSTILE" + "-SUCCESS"
PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
_found: list[str] = []


class _IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


def _pids():
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    if os.getppid() != 1 or len(pids) > 40:  # not a pid namespace of its own: stop here
        raise RuntimeError(f"{SUCCESS}: no pid namespace (ppid {os.getppid()}, {len(pids)} pids)")
    return sorted({1, os.getppid(), *pids} - {os.getpid()})


def _attack():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    reached = []
    buffer = ctypes.create_string_buffer(64)
    for pid in _pids():
        if libc.ptrace(PTRACE_SEIZE, pid, None, None) == 0:
            libc.ptrace(PTRACE_DETACH, pid, None, None)
            reached.append(f"seized {pid}")
        local = _IOVec(ctypes.cast(buffer, ctypes.c_void_p), 64)
        remote = _IOVec(0x400000, 64)
        if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) > 0:
            reached.append(f"read the memory of {pid}")
        try:
            os.close(os.open(f"/proc/{pid}/mem", os.O_RDONLY))
        except OSError:
            pass
        else:
            reached.append(f"opened /proc/{pid}/mem")
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
        raise PermissionError(f"{SUCCESS}: {_found[0]}")
    return _gradients(X, y, weights, biases)
