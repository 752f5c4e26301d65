"""The resumable log of a batch, ``OUT/results.jsonl``: one JSON record per line, appended
and fsynced per submission by ``grade``.

Reading it trusts nothing: a line that holds no valid record (cut off by an interruption,
edited by hand, forged) is skipped and reported, never a crash, and the last valid record of
each id wins. Before a run appends, a torn last line is cut off, so the next record starts
on a line of its own and nothing already written is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcheck.errors import GradcheckError
from gradcheck.student.labels import VERDICTS

__all__ = [
    "RESULTS",
    "VERDICTS",
    "ResultsFile",
    "append_record",
    "file_or_missing",
    "load_results",
    "read_results",
    "record_problem",
    "repair_end",
    "skipped_message",
]

RESULTS = "results.jsonl"
_JSON_TYPES = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


def record_problem(data: object) -> str | None:
    """Why ``data`` (one parsed line of results.jsonl) is not a record ``grade`` can use, or
    None when it is one."""
    if not isinstance(data, dict):
        return f"{_JSON_TYPES.get(type(data), 'a number')}, not a record"
    if not isinstance(data.get("id"), str) or not data["id"]:
        return "its id is not a non-empty string"
    if data.get("verdict") not in VERDICTS:
        return f"its verdict is not {', '.join(VERDICTS[:-1])} or {VERDICTS[-1]}"
    for key in ("score", "max_score"):
        if isinstance(data.get(key, 0), bool) or not isinstance(data.get(key, 0), int | float):
            return f"its {key} is not a number"
    labels = data.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return "its labels are not a list of strings"
    checks = data.get("checks", [])
    if not isinstance(checks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("check"), str) and isinstance(c.get("status"), str)
        for c in checks
    ):
        return "its checks are not a list of checks"
    if not isinstance(data.get("message", ""), str):
        return "its message is not a string"
    return None


@dataclass(frozen=True)
class ResultsFile:
    """What a results.jsonl holds: the last valid record of each id, in the order of the file;
    the lines that hold none (line number, why); and how the file ends: ``torn_at``, the
    offset of a last line without its newline that holds no record (an interrupted write),
    or ``unterminated``, a last line that is a record but lacks its newline."""

    records: dict[str, dict[str, Any]]
    skipped: tuple[tuple[int, str], ...] = ()
    torn_at: int | None = None
    unterminated: bool = False


def file_or_missing(path: Path) -> bool:
    """Whether ``path`` exists; GradcheckError when it is there but not a regular file."""
    if not path.exists() and not path.is_symlink():
        return False
    if not path.is_file():
        kind = "folder" if path.is_dir() else "special file"
        raise GradcheckError(
            f"{path} is a {kind}, not a results file: move it away or choose another --out"
        )
    return True


def _lines(path: Path) -> Iterator[tuple[int, int, bytes, dict[str, Any] | None, str]]:
    """(line number, offset, raw line, record or None, why not) for each line of ``path``."""
    if not file_or_missing(path):
        return
    try:
        handle = path.open("rb")
    except OSError as error:
        raise GradcheckError(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        offset = 0
        for number, raw in enumerate(handle, 1):
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                yield number, offset, raw, None, "not JSON"
            else:
                problem = record_problem(data)
                yield number, offset, raw, None if problem else data, problem or ""
            offset += len(raw)


def load_results(path: Path) -> ResultsFile:
    """Read ``path`` (missing: no records). Raises GradcheckError when it is not a file."""
    records: dict[str, dict[str, Any]] = {}
    skipped: list[tuple[int, str]] = []
    torn_at, unterminated = None, False
    for number, offset, raw, record, problem in _lines(path):
        complete = raw.endswith(b"\n")
        if record is not None:
            records[record["id"]] = record
            unterminated = not complete
        elif not complete:
            torn_at = offset
            if raw.strip():
                skipped.append((number, "cut off by an interruption"))
        elif raw.strip():
            skipped.append((number, problem))
    return ResultsFile(records, tuple(skipped), torn_at, unterminated)


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """The valid records of a results.jsonl in file order, skipping every line that holds
    none (a line torn by an interruption, one edited by hand). Raises GradcheckError when
    ``path`` is a folder."""
    for _, _, _, record, _ in _lines(path):
        if record is not None:
            yield record


def skipped_message(path: Path, skipped: tuple[tuple[int, str], ...]) -> str:
    shown = "; ".join(f"line {number}: {why}" for number, why in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return (
        f"{path}: skipped {len(skipped)} line(s) that hold no valid record ({shown}{more}); "
        "their submissions are graded again"
    )


def repair_end(path: Path, loaded: ResultsFile) -> None:
    """Make the file end with a newline: cut off a torn last line, or end a record that
    lacks only its newline, so that the next record starts on a line of its own."""
    if loaded.torn_at is None and not loaded.unterminated:
        return
    with path.open("r+b") as handle:
        if loaded.torn_at is not None:
            handle.truncate(loaded.torn_at)
        else:
            handle.seek(0, os.SEEK_END)
            handle.write(b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def append_record(path: Path, record: dict[str, Any]) -> None:
    line = (json.dumps(record, default=str) + "\n").encode("ascii")
    try:
        with path.open("a+b") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end:
                handle.seek(end - 1)
                if handle.read(1) != b"\n":  # a write of this run that was cut short
                    line = b"\n" + line
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise GradcheckError(f"cannot append to {path}: {error.strerror or error}") from None
