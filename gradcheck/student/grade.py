"""Grading a folder of submissions: in parallel, resumable, one record per submission.

A submission is a ``.py`` file or a ``.ipynb`` notebook directly in the folder, or a
sub-folder of them (its name is then the submission's id; ``loader`` picks the graded module
and its helpers); every other entry gets a record saying why it was not graded. Each result
is appended to ``results.jsonl`` as soon as it is known, with a flush and an fsync, so an
interrupted batch loses nothing; ``resume`` skips the ids that have a valid record there. One
run at a time writes to a folder: it holds an exclusive lock on ``OUT/.gradcheck.lock``,
which the kernel releases however the run ends, ``kill -9`` included.

Every submission runs in its own child process with its own limits, so a submission that
hangs, crashes or exhausts memory costs only its own time. The tasks run on an executor of
``runs.executors``, the same code path for both: ``local``, ``jobs`` slots of one worker
process each, so when a worker dies (the OOM killer, a signal) the submission it was grading
is known: it gets an ``error`` record (``process_died``), the slot a fresh process, and the
batch goes on; or ``dask``, a cluster's workers, where Dask runs a task whose worker died
again on another. A task carries the submission's source as bytes (``packing``) and the
assignment's spec file's content, and returns its record as data, so workers need no shared
file system; the client alone writes to OUT, and records each submission once. Each record's
complete form, the instructor's, is also written to ``OUT/<id>/instructor.json``, which the
reports for students never quote in full.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import socket
import tempfile
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gradcheck.errors import GradcheckError
from gradcheck.io import atomic_write_bytes, atomic_write_text
from gradcheck.report.escape import clean
from gradcheck.runs.executors import (
    SizedExecutor,
    Tasks,
    open_executor,
    run_in_flight,
    worker_lost,
)
from gradcheck.student.labels import Label
from gradcheck.student.loader import SUPPORTED
from gradcheck.student.packing import PackedSubmission, pack, unpack
from gradcheck.student.results_log import (
    RESULTS,
    append_record,
    file_or_missing,
    load_results,
    read_results,
    repair_end,
    skipped_message,
)
from gradcheck.student.sandbox import Limits

__all__ = [
    "INSTRUCTOR",
    "LOCK",
    "RESULTS",
    "Batch",
    "find_submissions",
    "grade_folder",
    "grade_task",
    "load_results",
    "read_results",
    "submission_id",
]

LOCK = ".gradcheck.lock"
INSTRUCTOR = "instructor.json"
TASK_PREFIX = "gradcheck-task-"  # a task's temporary folder, which no record may name
# written into OUT/<id>/
_PER_SUBMISSION = ("results.json", "prairielearn.json", "output.txt", INSTRUCTOR)


@dataclass(frozen=True)
class Batch:
    assignment: str  # a built-in name or a spec path, resolved in each worker
    examples: int
    seed: int
    limits: Limits
    spec: tuple[str, bytes] | None = None  # a spec file's name and content (``portable``)
    require_isolation: bool = False  # a worker without strong isolation grades nothing

    def portable(self) -> Batch:
        """This batch with its assignment's spec file read into it, when it names one, so
        that a worker on another machine grades against the same spec."""
        from gradcheck.student.custom import names_a_spec

        if self.spec is not None or not names_a_spec(self.assignment):
            return self
        path = Path(self.assignment)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise GradcheckError(
                f"cannot read assignment spec {path}: {error.strerror or error}"
            ) from None
        return replace(self, spec=(path.name, content))


def submission_id(name: str) -> str:
    """The id of the submission handed in as ``name``: backslashes doubled, then control
    characters, lone surrogates and bidirectional marks written as escapes (``clean``). It
    is safe to print and to use as a folder name, and two names never share an id."""
    return clean(name.replace("\\", "\\\\"))


def _has_code(folder: Path) -> bool:
    """Whether ``folder`` holds a .py or .ipynb file outside hidden folders."""
    return any(
        p.suffix in SUPPORTED and not any(part.startswith(".") for part in p.parts)
        for p in folder.rglob("*")
    )


def find_submissions(folder: Path) -> dict[str, Path | str]:
    """id → the file or folder to grade, or id → a message saying why it cannot be graded.

    Every entry of ``folder`` gets an id, so nothing is skipped unseen: a ``.py`` file, a
    ``.ipynb`` notebook and a folder (``loader`` picks its graded module) are submissions;
    any other file (``.txt``, ``.zip``, ``.pdf``) gets a message saying it is unsupported and
    what is. Only hidden entries (``.DS_Store``, ``.ipynb_checkpoints``) and ``__pycache__``
    are ignored. A folder without code gives way to a file of the same name (``alice/`` of an
    earlier ``--out`` beside ``alice.py``); two entries of one id that both hold code (a
    file and a folder, ``bob.py`` and ``bob.ipynb``) are an error."""
    if not folder.is_dir():
        raise GradcheckError(f"submissions folder {folder} does not exist or is not a folder")
    found: dict[str, Path | str] = {}
    holders: dict[str, list[str]] = {}  # id → the entries of that id that hold code
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        target: Path | str = entry
        if entry.is_dir():
            ident, shown = submission_id(entry.name), f"{submission_id(entry.name)}/"
            if not _has_code(entry):
                found.setdefault(ident, f"no .py or .ipynb file in {shown}")
                continue
        elif entry.suffix in SUPPORTED:
            ident, shown = submission_id(entry.stem), submission_id(entry.name)
        else:
            ident = submission_id(entry.name)
            found[ident] = (
                f"{ident} is not a submission gradcheck can grade ({_kind(entry)}); {_WHAT}"
            )
            continue
        holders.setdefault(ident, []).append(shown)
        if len(holders[ident]) > 1:
            named = sorted(holders[ident], key=lambda n: (n.endswith("/"), n))
            target = f"both {' and '.join(named)} hold a submission; expected one"
        found[ident] = target
    return found


_WHAT = "supported are .py files, .ipynb notebooks and folders of them"


def _kind(entry: Path) -> str:
    if not entry.is_file():
        return "not a regular file"
    return f"a {entry.suffix} file" if entry.suffix else "a file without an extension"


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold the lock on ``out``: raise GradcheckError naming the pid of a run that has it.
    The lock file stays when the run ends (removing it would let a third run lock a new file
    while a second still holds the old one); the lock itself goes with the process."""
    path = out / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise GradcheckError(f"cannot open the lock file {path}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            pid = holder if holder.isdigit() else "unknown"
            raise GradcheckError(
                f"another gradcheck grade is writing to {out} (pid {pid})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _remove_temporaries(out: Path, idents: list[str]) -> None:
    """The temporary files of atomic writes (``.NAME.XXXX.tmp``) that a killed run left."""
    from gradcheck.report.grading import class_writers

    writers = class_writers("")
    places = [(out, [writers.filename(fmt) for fmt in writers.formats])]
    places += [(out / ident, list(_PER_SUBMISSION)) for ident in idents]
    for folder, names in places:
        for name in names:
            for stale in folder.glob(f".{glob.escape(name)}.*.tmp"):
                stale.unlink(missing_ok=True)


def _error_record(ident: str, message: str, labels: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": ident,
        "verdict": "error",
        "labels": [str(label) for label in labels],
        "message": message,
        "checks": [],
        "counterexample": None,
        "score": 0.0,
        "max_score": 0.0,
    }


def grade_task(
    ident: str, target: PackedSubmission | str, batch: Batch
) -> tuple[dict[str, Any], bytes]:
    """Grade one submission where this runs (a local worker, a Dask worker): unpack it into
    a private temporary folder, validate it in the sandbox, and return its record and what
    it printed. It writes nothing else, so a task that is run twice (Dask retries a task
    whose worker died) leaves no trace of the first run; the client records each once."""
    from gradcheck.student.custom import resolve_assignment
    from gradcheck.student.validate import validate_submission

    if isinstance(target, str):
        return _error_record(ident, target, (Label.MISSING_ENTRY_POINT,)), b""
    weak = _weak_isolation(batch)
    if weak is not None:
        return _error_record(ident, weak), b""
    try:
        with tempfile.TemporaryDirectory(prefix=TASK_PREFIX) as temporary:
            place = Path(temporary)
            assignment = resolve_assignment(_assignment_here(batch, place))
            result = validate_submission(
                unpack(target, place),
                assignment,
                examples=batch.examples,
                seed=batch.seed,
                limits=batch.limits,
            )
    except GradcheckError as error:
        return _error_record(ident, str(error)), b""
    except Exception as error:  # the grader's fault, not the submission's: say so, go on
        return _grader_failed(ident, error), b""
    record = {"id": ident, **result.to_dict(), "submission": target.path}
    return record, result.output.encode("utf-8", "backslashreplace")


def _weak_isolation(batch: Batch) -> str | None:
    """Why this worker may not grade under ``require_isolation``, or None."""
    from gradcheck.student.isolation import probe

    if not batch.require_isolation or (isolation := probe()).strong:
        return None
    return (
        f"not graded: --require-isolation, and isolation is weak on the worker "
        f"{socket.gethostname()}: {isolation.reason}"
    )


def _assignment_here(batch: Batch, place: Path) -> str:
    """The assignment as ``resolve_assignment`` takes it: a built-in's name, or the spec
    file, written from the bytes the batch carries under its own name."""
    if batch.spec is None:
        return batch.assignment
    name, content = batch.spec
    (place / ".spec").mkdir()
    path = place / ".spec" / name
    path.write_bytes(content)
    return str(path)


def _grader_failed(ident: str, error: BaseException) -> dict[str, Any]:
    record = _error_record(ident, f"the grader failed on this submission ({type(error).__name__})")
    return {**record, "traceback": "".join(traceback.format_exception(error))}


def _worker_died(ident: str) -> dict[str, Any]:
    return _error_record(
        ident,
        "the grading worker died (killed by a signal or by the out-of-memory killer) while "
        "grading this submission; it was not graded",
        (Label.PROCESS_DIED,),
    )


def _outcome(
    ident: str, future: Future[tuple[dict[str, Any], bytes]]
) -> tuple[dict[str, Any], bytes]:
    error = future.exception()
    if error is None:
        result, output = future.result()
        return {**result, "id": ident}, output
    if worker_lost(error):
        return _worker_died(ident), b""
    return _grader_failed(ident, error), b""  # such as a result that could not be sent back


def _run(
    todo: list[tuple[str, Path | str]],
    batch: Batch,
    executor: SizedExecutor,
    record: Callable[[dict[str, Any], bytes], None],
    on_tasks: Callable[[Tasks], None] | None = None,
) -> None:
    """Grade ``todo`` on ``executor``, as many at a time as it has workers, calling
    ``record`` with each result and what it printed, in the order they complete, and
    ``on_tasks`` as the batch moves. A submission is read (``pack``) only when its task is
    submitted, so the client holds the source of the running ones alone."""

    def submit(item: tuple[str, Path | str]) -> Future[Any] | None:
        ident, target = item
        try:
            packed = target if isinstance(target, str) else pack(target)
        except GradcheckError as error:
            record(_error_record(ident, str(error)), b"")
            return None
        return executor.submit(grade_task, ident, packed, batch)

    def finished(item: tuple[str, Path | str], future: Future[Any]) -> None:
        record(*_outcome(item[0], future))

    run_in_flight(executor, todo, submit, finished, on_tasks)


def _prepare(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise GradcheckError(f"--out {out} exists and is not a folder") from None
    except OSError as error:
        raise GradcheckError(f"cannot create {out}: {error.strerror or error}") from None


def grade_folder(
    folder: Path,
    out: Path,
    batch: Batch,
    *,
    jobs: int = 2,
    resume: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    log: Callable[[str], None] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    on_tasks: Callable[[Tasks], None] | None = None,
) -> list[dict[str, Any]]:
    """Grade every submission in ``folder``; return all records (earlier ones included when
    resuming), in id order. ``log`` hears about lines of results.jsonl that were skipped;
    ``on_tasks`` how the batch stands, after each submission and each result. ``executor``
    and ``scheduler`` say where the tasks run (``runs.executors``; ``jobs`` is the number of
    local workers, or a LocalCluster's). Raises GradcheckError when another run holds
    ``out``, results.jsonl is not a file, or the executor cannot start."""
    submissions = find_submissions(folder)
    _prepare(out)
    results_path = out / RESULTS
    batch = batch.portable()
    with _exclusive(out):
        _remove_temporaries(out, list(submissions))
        done = _earlier(out, submissions, resume, log)
        todo = [(ident, target) for ident, target in submissions.items() if ident not in done]

        def finished(record: dict[str, Any], output: bytes) -> None:
            if record["id"] in done:  # never twice, whatever an executor does
                return
            if output:  # what it printed: OUT/<id>/output.txt
                atomic_write_bytes(out / record["id"] / "output.txt", output)
            append_record(results_path, record)
            _write_instructor(out, record)
            done[record["id"]] = record
            if on_result is not None:
                on_result(record)

        if todo:
            workers = max(1, min(jobs, len(todo)))
            # Spawned, never forked, local workers: the parent may hold threads (torch's,
            # JAX's), and a fork of a threaded process can deadlock.
            with open_executor(
                executor, workers=workers, scheduler=scheduler, start_method="spawn", isolated=True
            ) as pool:
                _run(todo, batch, pool, finished, on_tasks)
    return [done[ident] for ident in sorted(done)]


def _earlier(
    out: Path,
    submissions: dict[str, Path | str],
    resume: bool,
    log: Callable[[str], None] | None,
) -> dict[str, dict[str, Any]]:
    """The records of an earlier run to keep: with ``resume``, the valid ones of submissions
    still in the folder (the file's end repaired, a missing instructor.json written again);
    otherwise none, and results.jsonl is removed."""
    results_path = out / RESULTS
    exists = file_or_missing(results_path)
    if not resume:
        if exists:
            results_path.unlink()
        return {}
    loaded = load_results(results_path)
    if loaded.skipped and log is not None:
        log(skipped_message(results_path, loaded.skipped))
    repair_end(results_path, loaded)
    done = {i: r for i, r in loaded.records.items() if i in submissions}
    for ident, record in done.items():
        if not (out / ident / INSTRUCTOR).exists():
            _write_instructor(out, record)
    return done


def _write_instructor(out: Path, record: dict[str, Any]) -> None:
    """The complete record, full messages and traceback, where no student report points."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    atomic_write_text(out / str(record["id"]) / INSTRUCTOR, text)
