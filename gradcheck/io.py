"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = [
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "npz_json_pair",
    "pair_stem",
]


def pair_stem(path: str | Path) -> Path:
    """``data/core`` from ``data/core``, ``data/core.npz`` or ``data/core.json``; any other
    dot stays part of the name (``core.v1`` is the stem of ``core.v1.npz``)."""
    path = Path(path)
    return path.with_name(path.stem) if path.suffix in (".npz", ".json") else path


def npz_json_pair(path: str | Path) -> tuple[Path, Path]:
    """The arrays file and the index file of a pair saved under ``path`` (see pair_stem)."""
    stem = pair_stem(path)
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file in the same folder, fsync it, then rename it over
    ``path``. An interrupted run leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 less the
        # umask), so that reports stay readable by the CI user that uploads them.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """``atomic_write_text`` for text (UTF-8), ``atomic_write_bytes`` for bytes."""
    return atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
