"""Grading on Dask (``gradcheck grade --executor dask``), on a loopback ``LocalCluster`` of two
worker processes: the records are those of the local pool, record for record; a worker
killed mid-grade loses nothing and records nothing twice; a client killed mid-batch resumes
with ``--resume``; and the workers read the submissions from the bytes the tasks carry, not
from the file system."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradcheck.student.grade import RESULTS, TASK_PREFIX, Batch, grade_folder, read_results
from gradcheck.student.sandbox import Limits
from tests.helpers import local_cluster
from tests.student.corpus import CORPUS
from tests.student.test_batch_bookkeeping import (
    REPO,
    _children,
    _consistent,
    _descendants,
    _grade_args,
    _start,
    _until,
)

distributed = pytest.importorskip("distributed", reason="the dask extra (make test installs it)")

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")

TWO_LAYER = CORPUS / "two-layer"
BATCH = Batch("two-layer", examples=5, seed=3, limits=Limits(timeout=120.0))
# Every kind of entry a batch meets: right, wrong, a notebook, a folder with a helper, code
# that prints and crashes, a syntax error, a file that is not a submission.
FILES = (
    "correct_vectorised.py",
    "bug_transposed_w1.py",
    "bug_sign_flip_residual.py",
    "nb_bug_sign_flip.ipynb",
    "hostile_prints_a_lot.py",
    "hostile_crash_key_error.py",
    "hostile_syntax_error.py",
)
# Loads for a few seconds, then is right: a task a worker can be killed in.
SLOW = (
    (TWO_LAYER / "correct_vectorised.py")
    .read_text()
    .replace("import numpy as np\n", "import time\n\nimport numpy as np\n\ntime.sleep(4)\n", 1)
)


def _corpus(folder: Path) -> list[str]:
    folder.mkdir(parents=True)
    for name in FILES:
        shutil.copy(TWO_LAYER / name, folder / name)
    shutil.copytree(TWO_LAYER / "folder_notebook_helper", folder / "folder_notebook_helper")
    (folder / "folder_notebook_helper" / "linked.py").symlink_to("/etc/hostname")
    (folder / "notes.txt").write_text("not a submission\n")
    return sorted([Path(n).stem for n in FILES] + ["folder_notebook_helper", "notes.txt"])


def _timeless(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "seconds"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster() as running:
        yield running


def test_a_corpus_grades_on_dask_record_for_record_as_on_the_local_pool(
    tmp_path: Path, cluster: Any
) -> None:
    folder = tmp_path / "submissions"
    idents = _corpus(folder)
    local = grade_folder(folder, tmp_path / "local", BATCH, jobs=2)
    on_dask = grade_folder(
        folder,
        tmp_path / "dask",
        BATCH,
        jobs=2,
        executor="dask",
        scheduler=cluster.scheduler_address,
    )
    assert [r["id"] for r in on_dask] == idents
    assert [_timeless(r) for r in on_dask] == [_timeless(r) for r in local]
    verdicts = {r["id"]: r["verdict"] for r in on_dask}
    assert verdicts["correct_vectorised"] == "pass"
    assert verdicts["bug_transposed_w1"] == verdicts["nb_bug_sign_flip"] == "fail"
    assert verdicts["hostile_syntax_error"] == verdicts["notes.txt"] == "error"
    assert "symbolic links were not followed: linked.py" in json.dumps(on_dask)
    # The workers graded copies made from the tasks' bytes; no record names them.
    assert TASK_PREFIX not in json.dumps(on_dask)
    assert on_dask[idents.index("correct_vectorised")]["submission"] == str(
        folder / "correct_vectorised.py"
    )
    printed = "hostile_prints_a_lot/output.txt"
    assert (tmp_path / "dask" / printed).read_bytes() == (tmp_path / "local" / printed).read_bytes()
    with distributed.Client(cluster) as client:
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)
        )
    assert "set_up_then" in prefixes  # the tasks ran on the cluster


def test_an_assignment_spec_travels_with_the_tasks(tmp_path: Path, cluster: Any) -> None:
    """The workers get the spec's content, so the batch grades against it even where the
    spec's path does not exist: it is removed once the tasks are built."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(TWO_LAYER / "correct_vectorised.py", folder)
    spec = tmp_path / "course.toml"
    spec.write_text('convention = "two-layer"\nname = "week-3"\nactivations = ["sigmoid"]\n')
    batch = Batch(str(spec), examples=3, seed=0, limits=Limits(timeout=120.0)).portable()
    spec.unlink()
    (record,) = grade_folder(
        folder, tmp_path / "out", batch, executor="dask", scheduler=cluster.scheduler_address
    )
    assert record["verdict"] == "pass", record["message"]
    assert "against assignment week-3" in record["message"]


def _grade(folder: Path, out: Path, scheduler: str, *extra: str) -> subprocess.Popen[str]:
    """``gradcheck grade`` on the cluster at ``scheduler``, in a process group of its own."""
    return _start(
        [*_grade_args(folder, out), "--executor", "dask", "--scheduler", scheduler, *extra]
    )


def _slow_corpus(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True)
    idents = [f"slow{i}" for i in range(count)]
    for ident in idents:
        (folder / f"{ident}.py").write_text(SLOW)
    shutil.copy(TWO_LAYER / "bug_transposed_w1.py", folder)
    return [*idents, "bug_transposed_w1"]


def test_a_worker_killed_mid_grade_loses_nothing_and_records_nothing_twice(
    tmp_path: Path,
) -> None:
    """SIGKILL to a Dask worker while it grades: its nanny starts a new one, the scheduler
    runs the task again, and every submission is recorded once, none as ``process_died``."""
    folder, out = tmp_path / "submissions", tmp_path / "out"
    idents = _slow_corpus(folder, 5)
    with local_cluster() as cluster, distributed.Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        grader = _grade(folder, out, cluster.scheduler_address)
        doomed: list[int] = []
        try:

            def grading() -> list[int]:  # a worker with a child is running a sandbox
                return [pid for pid in pids if _children(pid)]

            _until(grading, "a worker grading")
            victim = grading()[0]
            doomed += _descendants(victim)
            os.kill(victim, signal.SIGKILL)
            _, stderr = grader.communicate(timeout=300)
        finally:
            grader.kill()
            grader.communicate()
            for pid in doomed:  # under the weak fallback a sandbox can outlive its worker
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        assert victim not in set(client.run(os.getpid).values())  # it did die
    assert grader.returncode == 1, stderr  # bug_transposed_w1 fails
    _consistent(out, idents)
    lines = (out / RESULTS).read_text().splitlines()
    assert len(lines) == len(idents)  # no id twice, not even superseded
    records = {r["id"]: r for r in read_results(out / RESULTS)}
    assert all(records[i]["verdict"] == "pass" for i in idents[:-1]), stderr
    assert records["bug_transposed_w1"]["verdict"] == "fail"


# A client that kills itself (SIGKILL, as kill -9 would) the moment its first record is
# written: the point of death is fixed, not left to how fast the machine grades.
DIES_AFTER_ONE_RECORD = """
import os, signal, sys
from pathlib import Path
from gradcheck.student.grade import Batch, grade_folder
from gradcheck.student.sandbox import Limits
folder, out, scheduler = sys.argv[1:]
batch = Batch("two-layer", examples=5, seed=0, limits=Limits(timeout=120.0))
grade_folder(Path(folder), Path(out), batch, executor="dask", scheduler=scheduler,
             on_result=lambda record: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_a_client_killed_mid_batch_resumes_with_resume(tmp_path: Path, cluster: Any) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    for name in FILES[:4]:
        shutil.copy(TWO_LAYER / name, folder / name)
    idents = sorted(Path(name).stem for name in FILES[:4])
    script = [sys.executable, "-c", DIES_AFTER_ONE_RECORD]
    killed = subprocess.run(
        [*script, str(folder), str(out), cluster.scheduler_address],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = [r["id"] for r in read_results(out / RESULTS)]
    assert len(before) == 1 and before[0] in idents  # the record written before the death
    resumed = _grade(folder, out, cluster.scheduler_address, "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, stderr
    _consistent(out, idents)
    ids = [r["id"] for r in read_results(out / RESULTS)]
    assert ids[0] == before[0] and len(ids) == len(set(ids))  # kept, then the rest once


def test_a_worker_without_bubblewrap_says_so_in_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers whose PATH has no ``bwrap`` grade under the weak fallback, and each record
    says so; under --require-isolation they grade nothing and the record says why."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(TWO_LAYER / "correct_vectorised.py", folder)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    with local_cluster(1) as cluster:
        address = cluster.scheduler_address
        (weak,) = grade_folder(folder, tmp_path / "weak", BATCH, executor="dask", scheduler=address)
        strict = dataclasses.replace(BATCH, require_isolation=True)
        (refused,) = grade_folder(
            folder, tmp_path / "strict", strict, executor="dask", scheduler=address
        )
    assert weak["verdict"] == "pass"
    assert (
        "isolation: WEAK (bwrap is not installed (Debian: apt-get install bubblewrap))"
        in weak["notes"]
    )
    assert refused["verdict"] == "error"
    assert refused["message"].startswith(
        "not graded: --require-isolation, and isolation is weak on the worker "
    )
    assert refused["message"].endswith(
        ": bwrap is not installed (Debian: apt-get install bubblewrap)"
    )
