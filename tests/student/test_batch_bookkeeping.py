"""The bookkeeping of a batch under interruption and attack: a torn or hand-edited
results.jsonl, a folder where the file belongs, two runs on one folder, a grader killed with
``kill -9`` and resumed, a pool worker killed mid-submission, and feedback that quotes a
submission's exception at length. Each ends with one record per submission and a summary that
agrees with results.jsonl."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gradcheck.cli import main
from gradcheck.errors import GradcheckError
from gradcheck.report.escape import EXCERPT_CHARS
from gradcheck.student.grade import (
    INSTRUCTOR,
    LOCK,
    RESULTS,
    Batch,
    find_submissions,
    grade_folder,
    load_results,
    read_results,
)
from gradcheck.student.sandbox import Limits
from tests.student.corpus import CORPUS

TWO_LAYER = CORPUS / "two-layer"
BATCH = Batch("two-layer", examples=5, seed=0, limits=Limits(timeout=120.0))
REPO = Path(__file__).resolve().parents[2]
# A submission without backprop is judged without running it: quick bookkeeping fodder.
NOT_RUN = "import numpy as np\n\n\ndef forward(X):\n    return X\n"
SLEEPER = (
    (TWO_LAYER / "correct_vectorised.py")
    .read_text()
    .replace(
        "def backprop(X, y, weights, biases):\n",
        "def backprop(X, y, weights, biases):\n    import time\n\n    time.sleep(600)\n",
    )
)


def _not_run(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    idents = [f"s{i:02d}" for i in range(count)]
    for ident in idents:
        (folder / f"{ident}.py").write_text(NOT_RUN)
    return idents


def _done(ident: str) -> str:
    return json.dumps({"id": ident, "verdict": "pass", "labels": [], "checks": [], "kept": True})


def _grade_args(folder: Path, out: Path, *extra: str) -> list[str]:
    return [
        "grade",
        str(folder),
        "--assignment",
        "two-layer",
        "--out",
        str(out),
        "--examples",
        "5",
        *extra,
    ]


def _summary(out: Path) -> dict[str, str]:
    """submission → verdict in summary.csv, a formula-looking id read back without its '."""
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    unquoted = [row["submission"] for row in rows]
    unquoted = [s[1:] if s[:1] == "'" and s[1:2] in "=+-@\t\r" else s for s in unquoted]
    return {ident: row["verdict"] for ident, row in zip(unquoted, rows, strict=True)}


def _lines(out: Path) -> list[str]:
    return [r["id"] for r in read_results(out / RESULTS)]


def _consistent(out: Path, idents: list[str]) -> None:
    """One record per submission in results.jsonl, and summary.csv says the same."""
    ids = _lines(out)
    assert sorted(ids) == sorted(idents), ids
    records = {r["id"]: r["verdict"] for r in read_results(out / RESULTS)}
    assert _summary(out) == records
    assert load_results(out / RESULTS).skipped == ()


def test_a_torn_last_line_is_cut_off_and_no_record_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    idents = _not_run(folder, 10)
    out.mkdir()
    good = "".join(_done(ident) + "\n" for ident in idents[:8])
    (out / RESULTS).write_text(good + '{"id": "s08", "verd')  # killed mid-write
    assert main(_grade_args(folder, out, "--resume", "--jobs", "2")) == 1
    _consistent(out, idents)
    assert all(r.get("kept") for r in read_results(out / RESULTS) if r["id"] in idents[:8])
    assert (out / RESULTS).read_text().startswith(good)


def test_malformed_lines_are_skipped_counted_and_their_submissions_regraded(
    tmp_path: Path,
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    idents = _not_run(folder, 5)
    out.mkdir()
    lines = [
        _done("s00"),
        '{"id": ["s01"]}',
        "[1, 2]",
        '"s02"',
        '{"id": "s02"}',
        "not json",
        _done("s03"),
        '{"id": "s04", "verdict": "pass", "checks": "none"}',
        "\udcff",
    ]
    (out / RESULTS).write_text("\n".join(lines) + "\n", errors="surrogateescape")
    heard: list[str] = []
    records = grade_folder(folder, out, BATCH, jobs=2, resume=True, log=heard.append)
    assert [r["id"] for r in records] == idents
    assert [r["id"] for r in records if r.get("kept")] == ["s00", "s03"]  # never lost
    assert len(heard) == 1 and "skipped 7 line(s)" in heard[0] and str(out / RESULTS) in heard[0]
    assert "line 2: its id is not a non-empty string" in heard[0]
    assert sorted(r["id"] for r in load_results(out / RESULTS).records.values()) == idents


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_a_folder_named_results_jsonl_is_a_clear_error(tmp_path: Path, resume: bool) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    _not_run(folder, 1)
    (out / RESULTS).mkdir(parents=True)
    with pytest.raises(GradcheckError, match=f"{out / RESULTS} is a folder, not a results file"):
        grade_folder(folder, out, BATCH, resume=resume)
    assert main(_grade_args(folder, out, *(["--resume"] if resume else []))) == 2


def test_a_second_run_on_the_same_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    _not_run(folder, 2)
    out.mkdir()
    (out / RESULTS).write_text(_done("s00") + "\n")
    with (out / LOCK).open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write(f"{os.getpid()}\n")
        held.flush()
        assert main(_grade_args(folder, out)) == 2
    message = f"another gradcheck grade is writing to {out} (pid {os.getpid()})"
    assert message in capsys.readouterr().err
    assert _lines(out) == ["s00"]  # the running batch's file is untouched


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    below = _children(pid)
    return below + [d for child in below for d in _descendants(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _workers(grader: int) -> list[int]:
    return [pid for pid in _children(grader) if b"spawn_main" in _cmdline(pid)]


def _until(condition: Callable[[], object], what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def spawned() -> Iterator[list[int]]:
    """Pids the test's grader started; any still alive at the end are killed (under the weak
    fallback a killed worker's submission outlives it)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gradcheck", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _copy(folder: Path, names: list[str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(TWO_LAYER / f"{name}.py", folder / f"{name}.py")
    return names


def test_kill_9_partway_then_resume_gives_one_record_per_submission(
    tmp_path: Path, spawned: list[int]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    idents = _copy(
        folder,
        [
            "bug_batch_reduction_mean",
            "bug_sign_flip_residual",
            "bug_transposed_w1",
            "bug_zero_gradient_b2_typo",
            "correct_einsum",
            "correct_looped",
            "correct_vectorised",
            "hostile_sleep",
        ],
    )
    args = _grade_args(folder, out, "--jobs", "2", "--timeout", "8")
    grader = _start(args)
    try:
        _until(lambda: (out / LOCK).exists() and (out / LOCK).read_text().strip(), "the lock")
        assert (out / LOCK).read_text().strip() == str(grader.pid)
        second = subprocess.run(
            [sys.executable, "-m", "gradcheck", *args], cwd=REPO, capture_output=True, text=True
        )
        assert second.returncode == 2, second.stderr
        assert f"another gradcheck grade is writing to {out} (pid {grader.pid})" in second.stderr
        _until(lambda: (out / RESULTS).exists() and len(_lines(out)) >= 2, "two records")
        spawned += _descendants(grader.pid)
        os.killpg(grader.pid, signal.SIGKILL)
    finally:
        grader.kill()
        grader.communicate()
    assert 2 <= len(_lines(out)) < len(idents)
    resumed = _start([*args, "--resume"])
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, stderr  # no stale lock, and not everyone passes
    _consistent(out, idents)
    records = {r["id"]: r for r in read_results(out / RESULTS)}
    assert records["hostile_sleep"]["labels"] == ["timeout"]
    assert records["correct_einsum"]["verdict"] == "pass"
    assert not list(out.glob("**/.*.tmp"))
    assert all((out / ident / INSTRUCTOR).is_file() for ident in idents)


def test_a_killed_worker_costs_only_the_submission_it_was_grading(
    tmp_path: Path, spawned: list[int]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    for name in ("a_sleeps", "b_sleeps"):  # the first two ids: each worker gets one
        (folder / f"{name}.py").write_text(SLEEPER)
    others = _copy(folder, ["bug_sign_flip_residual", "correct_vectorised"])
    (folder / "s00.py").write_text(NOT_RUN)
    grader = _start(_grade_args(folder, out, "--jobs", "2", "--timeout", "120"))
    try:

        def busy() -> list[int]:  # a worker with a child is running a sleeper's sandbox
            return [pid for pid in _workers(grader.pid) if _children(pid)]

        _until(lambda: len(busy()) == 2, "both workers grading a sleeper")
        spawned += _descendants(grader.pid)
        for worker in busy():
            os.kill(worker, signal.SIGKILL)
        _, stderr = grader.communicate(timeout=300)
    finally:
        grader.kill()
        grader.communicate()
    assert grader.returncode == 1, stderr
    _consistent(out, ["a_sleeps", "b_sleeps", *others, "s00"])
    records = {r["id"]: r for r in read_results(out / RESULTS)}
    for sleeper in ("a_sleeps", "b_sleeps"):
        assert records[sleeper]["verdict"] == "error"
        assert records[sleeper]["labels"] == ["process_died"]
        assert "the grading worker died" in records[sleeper]["message"]
    assert records["correct_vectorised"]["verdict"] == "pass"  # graded by a fresh pool
    assert records["bug_sign_flip_residual"]["verdict"] == "fail"
    assert records["s00"]["labels"] == ["missing_entry_point"]


PASSWD = "\n".join(f"user{i}:x:{1000 + i}:{1000 + i}::/home/user{i}:/bin/sh" for i in range(80))


def test_students_see_an_excerpt_and_the_instructor_the_whole_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    leaking = (
        (TWO_LAYER / "correct_vectorised.py")
        .read_text()
        .replace(
            "def backprop(X, y, weights, biases):\n",
            f"def backprop(X, y, weights, biases):\n    raise RuntimeError({PASSWD!r})\n",
        )
    )
    (folder / "eve.py").write_text(leaking)
    assert main(_grade_args(folder, out, "--jobs", "1")) == 1
    record = next(read_results(out / RESULTS))
    assert "user40:" in record["message"]  # the leak is there to be hidden
    gradescope = json.loads((out / "eve" / "results.json").read_text())
    assert all(len(test["output"]) <= EXCERPT_CHARS for test in gradescope["tests"])
    visible = gradescope["output"] + "".join(test["output"] for test in gradescope["tests"])
    assert visible.count("/home/user") <= 2 * EXCERPT_CHARS // 40 and "user40:" not in visible
    instructor = json.loads((out / "eve" / INSTRUCTOR).read_text())
    assert instructor["message"] == record["message"]
    assert "user40:" in instructor["checks"][0]["message"]


def test_file_names_become_ids_that_are_safe_to_print_and_never_collide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    names = ["\x1b[31mred", "\\x1b[31mred", "bad\udcff", "=cmd|"]  # ESC; its escape; not UTF-8
    for name in names:
        (folder / f"{name}.py").write_text(NOT_RUN)
    assert main(_grade_args(folder, out)) == 1
    printed = capsys.readouterr()
    for stream in (printed.out, printed.err):
        assert "\x1b" not in stream and "\udcff" not in stream
    ids = sorted(_lines(out))
    assert ids == sorted(["\\x1b[31mred", "\\\\x1b[31mred", "bad\\udcff", "=cmd|"])
    assert all((out / ident / "results.json").is_file() for ident in ids)
    _consistent(out, ids)


def test_a_file_and_a_folder_of_one_name_are_never_silently_merged(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()  # an earlier --out inside the folder: no .py file there
    (tmp_path / "alice" / "results.json").write_text("{}")
    (tmp_path / "bob").mkdir()
    for path in (tmp_path / "alice.py", tmp_path / "bob.py", tmp_path / "bob" / "hw.py"):
        path.write_text(NOT_RUN)
    found = find_submissions(tmp_path)
    assert found["alice"] == tmp_path / "alice.py"
    assert found["bob"] == "both bob.py and bob/ hold a submission; expected one"
