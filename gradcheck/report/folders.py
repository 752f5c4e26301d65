"""Where a run's reports go: a timestamped folder under the reports root, and ``latest``.

``run_folder(root)`` creates ``root/<UTC timestamp>/`` (a suffix keeps two runs in the same
second apart). ``publish_latest(root, folder)`` points ``root/latest`` at the folder once
the run has written everything: a symbolic link replaced by an atomic rename, so a reader
sees the previous run or the new one, never a half-written one. Earlier runs are never
touched. ``publish_run`` does the whole sequence for a command: a new folder, every file
written atomically into it, ``latest`` pointed at it, and the Markdown summary appended to
``$GITHUB_STEP_SUMMARY`` when a GitHub Actions job set that variable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gradcheck.errors import GradcheckError
from gradcheck.io import atomic_write

__all__ = ["LATEST", "Published", "publish_latest", "publish_run", "run_folder"]

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
    if link.exists() and not link.is_symlink():
        raise GradcheckError(
            f"{link} is a real {'folder' if link.is_dir() else 'file'}, not the link gradcheck "
            f"keeps there; the reports are in {folder}"
        )
    temporary = root / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(os.path.relpath(folder, root), temporary)
    os.replace(temporary, link)
    return link


@dataclass(frozen=True)
class Published:
    folder: Path
    paths: tuple[Path, ...]


def publish_run(
    root: str | Path,
    files: Mapping[str, str | bytes],
    *,
    step_summary: str | None = None,
    folder: Path | None = None,
) -> Published:
    """Write ``files`` (name → text or bytes) into a new run folder under ``root`` (or into
    ``folder``, made earlier by ``run_folder`` for files written before these), point
    ``root/latest`` at it once all are written, and append ``step_summary`` (Markdown) to
    the file named by ``$GITHUB_STEP_SUMMARY`` where that is set."""
    folder = run_folder(root) if folder is None else folder
    paths = tuple(atomic_write(folder / name, data) for name, data in files.items())
    publish_latest(root, folder)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and step_summary is not None:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(step_summary + "\n")
    return Published(folder, paths)
