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

    .venv/bin/python bench/grade_notebooks.py [-n 200] [--assignment cs231n-a2 --rounds 1]

With ``--assignment cs231n-a2`` the class is the assignment-2 corpus (whole layers.py files,
single layers, model classes; correct and buggy) written out as course-style notebooks.
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
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck.student.notebook import notebook_text  # noqa: E402
from tests.student.corpus import corpus  # noqa: E402

ASSIGNMENT = "two-layer"


def _sources(assignment: str, scratch: Path) -> list[Path]:
    """The corpus notebooks of the assignment that are valid notebooks (the .py anchor needs
    their code). An assignment whose corpus has no notebooks (``cs231n-a2``) gets its .py
    files turned into notebooks the way a course's are written: a markdown cell, a magic, a
    shell escape, then one cell per top-level definition, and a demo cell that prints."""
    found = []
    for entry in corpus():
        if entry.assignment == assignment and entry.path.suffix == ".ipynb":
            try:
                notebook_text(entry.path)
            except ValueError:
                continue
            found.append(entry.path)
    if found:
        return found
    scratch.mkdir()
    for entry in corpus():
        if entry.assignment == assignment and entry.path.suffix == ".py":
            found.append(_as_notebook(entry.path, scratch / f"{entry.path.stem}.ipynb"))
    return found


def _as_notebook(source: Path, target: Path) -> Path:
    chunks, current = [], []
    for line in source.read_text().splitlines():
        if (line.startswith(("def ", "class ")) and current) or line.startswith("# ----"):
            chunks.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    chunks.append("\n".join(current).strip("\n"))
    cells = [new_markdown_cell(f"# Assignment: {source.stem}")]
    cells.append(new_code_cell("%matplotlib inline\n!pip install -q tqdm"))
    cells += [new_code_cell(chunk) for chunk in chunks if chunk]
    cells.append(new_code_cell("print('done')\n%timeit -n1 sum(range(10))"))
    nbformat.write(new_notebook(cells=cells), target)  # type: ignore[no-untyped-call]
    return target


def _build(count: int, assignment: str, root: Path) -> Counter[str]:
    """``count`` notebooks into ``root/notebooks`` and their .py equivalents into
    ``root/scripts``."""
    notebooks, scripts = root / "notebooks", root / "scripts"
    sources = _sources(assignment, root / "sources")
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


def _grade(folder: Path, out: Path, assignment: str) -> tuple[float, Counter[str]]:
    """Wall seconds of one `gradcheck grade --jobs 2` over ``folder``, and its verdicts."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    command = [sys.executable, "-m", "gradcheck", "grade", str(folder)]
    command += ["--assignment", assignment, "--out", str(out), "--jobs", "2"]
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
    parser.add_argument("--assignment", default=ASSIGNMENT, help=f"default {ASSIGNMENT}")
    parser.add_argument(
        "--rounds", type=int, choices=(1, 2), default=2, help="2: .py, .ipynb, .ipynb, .py"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-notebooks-") as tmp:
        root = Path(tmp)
        kinds = _build(args.count, args.assignment, root)
        print(f"class of {args.count}: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
        # A B B A: the first grade of a run pays for cold caches, so each half goes first once.
        times: dict[str, list[float]] = {"notebooks": [], "scripts": []}
        order = ("scripts", "notebooks", "notebooks", "scripts")[: 2 * args.rounds]
        for turn, folder in enumerate(order):
            seconds, verdicts = _grade(
                root / folder, root / f"out-{folder}-{turn}", args.assignment
            )
            times[folder].append(seconds)
            shown = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
            print(f"  {folder:9} {seconds:6.1f} s ({shown})")
        for label, folder in (("notebooks (.ipynb)", "notebooks"), ("anchor (.py)", "scripts")):
            seconds = sum(times[folder]) / len(times[folder])
            print(
                f"{label:20} {seconds:7.1f} s wall (mean of {args.rounds}), "
                f"{seconds / args.count:.2f} s per "
                "submission, 2 jobs"
            )


if __name__ == "__main__":
    main()
