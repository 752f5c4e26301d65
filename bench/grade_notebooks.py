"""Seconds per submission for `gradcheck grade` on a class of notebooks, against the same
class as .py files in the same run (the anchor).

The class is built from the two-layer notebooks of tests/corpus (correct, buggy, crashing,
forbidden, not parsing), cycled to N, each copy with a markdown cell of its own naming the
student so that no two files are alike. The anchor is the same class written as .py files:
each notebook's code cells as the loader joins them (magics dropped), so both halves grade
the same code and the difference is what reading notebooks costs. Each half is one
`gradcheck grade --jobs 2` subprocess, whose environment has OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed (and nothing else changed); the halves run in the order .py,
.ipynb, .ipynb, .py and each figure is the mean of its two runs, so that neither half is
always the one that runs on cold caches.

    .venv/bin/python bench/grade_notebooks.py [-n 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck.student.notebook import notebook_text  # noqa: E402
from tests.student.corpus import corpus  # noqa: E402

ASSIGNMENT = "two-layer"


def _sources() -> list[Path]:
    """The corpus notebooks of the assignment that are valid notebooks (the .py anchor needs
    their code)."""
    found = []
    for entry in corpus():
        if entry.assignment == ASSIGNMENT and entry.path.suffix == ".ipynb":
            try:
                notebook_text(entry.path)
            except ValueError:
                continue
            found.append(entry.path)
    return found


def _build(count: int, notebooks: Path, scripts: Path) -> Counter[str]:
    """``count`` notebooks into ``notebooks`` and their .py equivalents into ``scripts``."""
    sources = _sources()
    kinds: Counter[str] = Counter()
    for folder in (notebooks, scripts):
        folder.mkdir()
    for index in range(count):
        source = sources[index % len(sources)]
        kinds[source.stem] += 1
        notebook = nbformat.read(source, as_version=4)  # type: ignore[no-untyped-call]
        notebook.cells.insert(1, new_markdown_cell(f"Student {index:04d}, section {index % 7}"))
        name = f"s{index:04d}_{source.stem}"
        nbformat.write(notebook, notebooks / f"{name}.ipynb")  # type: ignore[no-untyped-call]
        (scripts / f"{name}.py").write_text(notebook_text(notebooks / f"{name}.ipynb").text)
    return kinds


def _grade(folder: Path, out: Path) -> tuple[float, Counter[str]]:
    """Wall seconds of one `gradcheck grade --jobs 2` over ``folder``, and its verdicts."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    command = [sys.executable, "-m", "gradcheck", "grade", str(folder)]
    command += ["--assignment", ASSIGNMENT, "--out", str(out), "--jobs", "2"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradcheck grade failed ({done.returncode}):\n{done.stderr[-2000:]}")
    lines = (out / "results.jsonl").read_text().splitlines()
    return seconds, Counter(json.loads(line)["verdict"] for line in lines if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=200, help="submissions (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-notebooks-") as tmp:
        root = Path(tmp)
        kinds = _build(args.count, root / "notebooks", root / "scripts")
        print(f"class of {args.count}: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
        # A B B A: the first grade of a run pays for cold caches, so each half goes first once.
        times: dict[str, list[float]] = {"notebooks": [], "scripts": []}
        for turn, folder in enumerate(("scripts", "notebooks", "notebooks", "scripts")):
            seconds, verdicts = _grade(root / folder, root / f"out-{folder}-{turn}")
            times[folder].append(seconds)
            shown = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
            print(f"  {folder:9} {seconds:6.1f} s ({shown})")
        for label, folder in (("notebooks (.ipynb)", "notebooks"), ("anchor (.py)", "scripts")):
            seconds = sum(times[folder]) / len(times[folder])
            print(
                f"{label:20} {seconds:7.1f} s wall (mean of 2), {seconds / args.count:.2f} s per "
                "submission, 2 jobs"
            )


if __name__ == "__main__":
    main()
