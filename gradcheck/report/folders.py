"""Where a run's reports go: a timestamped folder under the reports root, and ``latest``.

``run_folder(root)`` creates ``root/<UTC timestamp>/`` (a suffix keeps two runs in the same
second apart). ``publish_latest(root, folder)`` points ``root/latest`` at the folder once
the run has written everything: a symbolic link replaced by an atomic rename, so a reader
sees the previous run or the new one, never a half-written one. Earlier runs are never
touched.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["LATEST", "publish_latest", "run_folder"]

LATEST = "latest"


def run_folder(root: str | Path, now: datetime | None = None) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    for suffix in ("", *(f"-{i}" for i in range(1, 1000))):
        folder = root / f"{stamp}{suffix}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free report folder for {stamp} under {root}")


def publish_latest(root: str | Path, folder: str | Path) -> Path:
    """Point ``root/latest`` at ``folder`` (relative, so the tree can be moved)."""
    root, folder = Path(root), Path(folder)
    link = root / LATEST
    temporary = root / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(os.path.relpath(folder, root), temporary)
    os.replace(temporary, link)
    return link
