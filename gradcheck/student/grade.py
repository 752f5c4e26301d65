"""Grading a folder of submissions: in parallel, resumable, one record per submission.

A submission is a ``.py`` file directly in the folder, or a sub-folder holding one ``.py``
file (its name is then the submission's id). Each result is appended to
``results.jsonl`` as soon as it is known, with a flush and an fsync, so an interrupted batch
loses nothing; ``resume`` skips the ids already there (a torn last line is ignored).
Every submission runs in its own child process with its own limits, so a submission that
hangs, crashes or exhausts memory costs only its own time.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcheck.errors import GradcheckError
from gradcheck.io import atomic_write_text
from gradcheck.student.sandbox import Limits

__all__ = ["Batch", "find_submissions", "grade_folder", "read_results"]

RESULTS = "results.jsonl"


@dataclass(frozen=True)
class Batch:
    assignment: str  # a built-in name or a spec path, resolved in each worker
    examples: int
    seed: int
    limits: Limits
    out: Path | None = None  # where each submission's printed output is kept (output.txt)


def find_submissions(folder: Path) -> dict[str, Path | str]:
    """id → file, or id → a message saying why the folder holds no single submission."""
    if not folder.is_dir():
        raise GradcheckError(f"submissions folder {folder} does not exist or is not a folder")
    found: dict[str, Path | str] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found[entry.stem] = entry
        elif entry.is_dir():
            files = sorted(p for p in entry.rglob("*.py") if not p.name.startswith("."))
            if len(files) == 1:
                found[entry.name] = files[0]
            elif files:
                found[entry.name] = f"{len(files)} .py files in {entry.name}/; expected one"
            else:
                found[entry.name] = f"no .py file in {entry.name}/"
    return found


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a results.jsonl, skipping a line torn by an interruption."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "id" in record:
                yield record


def _grade_one(ident: str, target: Path | str, batch: Batch) -> dict[str, Any]:
    from gradcheck.student.custom import resolve_assignment
    from gradcheck.student.validate import validate_submission

    if isinstance(target, str):
        return {
            "id": ident,
            "verdict": "error",
            "labels": ["missing_entry_point"],
            "message": target,
            "checks": [],
            "counterexample": None,
            "score": 0.0,
            "max_score": 0.0,
        }
    try:
        result = validate_submission(
            target,
            resolve_assignment(batch.assignment),
            examples=batch.examples,
            seed=batch.seed,
            limits=batch.limits,
        )
    except GradcheckError as error:
        return {
            "id": ident,
            "verdict": "error",
            "labels": [],
            "message": str(error),
            "checks": [],
            "counterexample": None,
            "score": 0.0,
            "max_score": 0.0,
        }
    if result.output and batch.out is not None:
        atomic_write_text(batch.out / ident / "output.txt", result.output)
    return {"id": ident, **result.to_dict()}


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def grade_folder(
    folder: Path,
    out: Path,
    batch: Batch,
    *,
    jobs: int = 2,
    resume: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Grade every submission in ``folder``; return all records (earlier ones included when
    resuming), in id order."""
    submissions = find_submissions(folder)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / RESULTS
    done: dict[str, dict[str, Any]] = {}
    if resume:
        done = {r["id"]: r for r in read_results(results_path) if r["id"] in submissions}
    elif results_path.exists():
        results_path.unlink()
    todo = [(ident, target) for ident, target in submissions.items() if ident not in done]
    # Fresh interpreters, never forks: the parent may hold threads (torch's, JAX's), and a
    # fork of a threaded process can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        pending: set[Future[dict[str, Any]]] = {
            pool.submit(_grade_one, i, t, batch) for i, t in todo
        }
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                record = future.result()
                _append(results_path, record)
                done[record["id"]] = record
                if on_result is not None:
                    on_result(record)
    return [done[ident] for ident in sorted(done)]
