"""Seconds per submission for `gradcheck validate`, and a batch of 100 with `gradcheck grade`.

Targets (issue 4): median ≤ 5 s per submission, correct ones included; 100 submissions in
≤ 3 minutes on this machine (2 cores). Issue 15: bubblewrap's isolation costs ≤ 0.3 s per
submission over the weak isolation of a plain child process; each corpus file is validated
both ways, in turn, in the same run, and a bare sandbox (start, load, close) is timed both
ways too. The batch is the corpus of tests/corpus (correct,
buggy and hostile files of every assignment), cycled to 100 submissions. The anchor is a
bare child process (python + numpy import), the floor any isolated grader pays per
submission.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        .venv/bin/python bench/validate_throughput.py [--batch 100]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._threads import pin_threads

pin_threads(1)

from gradcheck.student.assignment import get_assignment  # noqa: E402
from gradcheck.student.grade import Batch, grade_folder  # noqa: E402
from gradcheck.student.isolation import Isolation, probe  # noqa: E402
from gradcheck.student.sandbox import Limits, Sandbox  # noqa: E402
from gradcheck.student.source import analyse_source  # noqa: E402

WEAK = Isolation(False, "bench: a plain child process")


def _lifecycle(path: Path, isolation: Isolation | None) -> float:
    """Seconds to start a sandbox, load a submission and close it."""
    start = time.perf_counter()
    with Sandbox(path, analyse_source(path).keep, forbidden=[], isolation=isolation) as box:
        box.start()
    return time.perf_counter() - start


from gradcheck.student.validate import validate_submission  # noqa: E402
from tests.student.corpus import corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    entries = [e for e in corpus() if e.path.suffix == ".py"]  # notebooks: grade_notebooks.py

    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
    floor = time.perf_counter() - start

    strong = probe()
    print(strong.describe())
    simple = next(e.path for e in entries if e.path.stem == "correct_vectorised")
    bare: dict[str, list[float]] = {"strong": [], "weak": []}
    for _ in range(20):
        bare["strong"].append(_lifecycle(simple, None))
        bare["weak"].append(_lifecycle(simple, WEAK))
    per_file: list[tuple[str, str, float]] = []
    weak_seconds: list[float] = []
    for entry in entries:
        limits = Limits(timeout=entry.timeout or 20.0, memory_mb=entry.memory_mb or 2048)
        assignment = get_assignment(entry.assignment)
        start = time.perf_counter()
        result = validate_submission(entry.path, assignment, limits=limits)
        per_file.append((entry.id, result.verdict, time.perf_counter() - start))
        start = time.perf_counter()
        validate_submission(entry.path, assignment, limits=limits, isolation=WEAK)
        weak_seconds.append(time.perf_counter() - start)
    seconds = [s for _, _, s in per_file]
    cost = statistics.median(seconds) - statistics.median(weak_seconds)
    bare_strong = statistics.median(bare["strong"])
    print(
        f"isolation: bare sandbox (start, load, close) median {bare_strong:.3f} s "
        f"under bubblewrap, {statistics.median(bare['weak']):.3f} s weak; whole validate median "
        f"{statistics.median(seconds):.2f} s against {statistics.median(weak_seconds):.2f} s weak: "
        f"{cost:+.2f} s per submission (target <= +0.3 s)"
    )
    correct = [s for _, verdict, s in per_file if verdict == "pass"]
    print(f"validate, one process, {len(per_file)} corpus submissions (threads pinned to 1)")
    print(f"  bare child process (python -I + numpy): {floor:.2f} s")
    print(
        f"  median {statistics.median(seconds):.2f} s (target <= 5 s); correct ones: "
        f"median {statistics.median(correct):.2f} s; slowest {max(seconds):.2f} s "
        f"({max(per_file, key=lambda p: p[2])[0]})"
    )

    by_assignment: dict[str, list[Path]] = {}
    for entry in entries:
        by_assignment.setdefault(entry.assignment, []).append(entry.path)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = {name: root / name for name in by_assignment}
        count = 0
        while count < args.batch:
            for name, paths in by_assignment.items():
                if count >= args.batch:
                    break
                path = paths[count % len(paths)]
                folders[name].mkdir(exist_ok=True)
                shutil.copy(path, folders[name] / f"s{count:03d}_{path.stem}.py")
                count += 1
        start = time.perf_counter()
        graded = 0
        for name, folder in folders.items():
            if folder.exists():
                batch = Batch(name, examples=40, seed=0, limits=Limits(timeout=20.0))
                graded += len(grade_folder(folder, root / f"out-{name}", batch, jobs=2))
        total = time.perf_counter() - start
    print(
        f"grade, 2 workers: {graded} submissions in {total:.1f} s (target <= 180 s), "
        f"{total / graded:.2f} s each"
    )


if __name__ == "__main__":
    main()
