"""A submission as bytes, so that it can be graded in a process that does not share this
machine's file system (a Dask worker), and is graded as it was when the batch read it.

``pack`` reads what the loader would read: a file's content; in a folder, every ``.py`` and
``.ipynb`` file outside hidden folders and ``__pycache__``, with symbolic links kept as links
(the loader never follows them, and says so in a note; unpacked, they point nowhere).
``unpack`` writes the submission under the same name into a fresh folder, where
``validate_submission`` reads it as it would have read the original.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gradcheck.errors import GradcheckError
from gradcheck.student.loader import SUPPORTED

__all__ = ["MAX_BYTES", "PackedSubmission", "pack", "unpack"]

MAX_BYTES = 64 * 1024 * 1024  # of source in one submission, more than any real one has


@dataclass(frozen=True)
class PackedSubmission:
    name: str  # the entry's name in the submissions folder: alice.py, bob
    path: str  # where it was, as records name it
    folder: bool
    files: tuple[tuple[str, bytes], ...] = ()  # relative POSIX path → content (a file: "")
    links: tuple[str, ...] = ()  # relative paths of symbolic links in a folder

    @property
    def size(self) -> int:
        return sum(len(content) for _, content in self.files)


def _read(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise GradcheckError(f"cannot read submission {shown}: {error.strerror or error}") from None


def _check_size(packed: PackedSubmission) -> PackedSubmission:
    if packed.size > MAX_BYTES:
        raise GradcheckError(
            f"submission {packed.name} holds {packed.size / 2**20:.0f} MiB of source; at most "
            f"{MAX_BYTES // 2**20} MiB are graded"
        )
    return packed


def pack(target: Path) -> PackedSubmission:
    """The submission at ``target`` (a file or a folder) as bytes. Raises GradcheckError
    when it cannot be read or is too large."""
    if not target.is_dir():
        content = _read(target, target.name)
        return _check_size(PackedSubmission(target.name, str(target), False, (("", content),)))
    files: list[tuple[str, bytes]] = []
    links: list[str] = []
    total = 0
    for path in sorted(target.rglob("*")):
        parts = path.relative_to(target).parts
        if path.suffix not in SUPPORTED or any(
            p.startswith(".") or p == "__pycache__" for p in parts
        ):
            continue
        relative = "/".join(parts)
        if path.is_symlink():
            links.append(relative)
        elif path.is_file():
            content = _read(path, f"{target.name}/{relative}")
            total += len(content)
            files.append((relative, content))
            if total > MAX_BYTES:
                break
    packed = PackedSubmission(target.name, str(target), True, tuple(files), tuple(links))
    return _check_size(packed)


def _inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing a path that would leave ``root`` (a hand-made package)."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise GradcheckError(f"packed submission names a path outside itself: {relative!r}")
    return root.joinpath(*pure.parts)


def unpack(packed: PackedSubmission, into: Path) -> Path:
    """Write ``packed`` into the folder ``into``; return the path to grade."""
    if "/" in packed.name or packed.name in ("", ".", ".."):
        raise GradcheckError(f"packed submission has a bad name: {packed.name!r}")
    target = into / packed.name
    if not packed.folder:
        target.write_bytes(packed.files[0][1])
        return target
    target.mkdir()
    for relative, content in packed.files:
        path = _inside(target, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for relative in packed.links:
        path = _inside(target, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.devnull + ".gradcheck-link-not-followed", path)
    return target
