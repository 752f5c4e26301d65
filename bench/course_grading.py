"""Grading real course files: seconds per whole CS231n assignment-2 layers.py, and the corpus
figures (false failures, bugs detected, bugs diagnosed with the right label).

Target (issue 18): median ≤ 5 s per submission for a whole assignment-2 layers.py with naive
convolution and pooling, graded on the ``cs231n-a2`` preset. The anchor, measured in the same
run, is the course's own check of the same file: for every graded function, one numerical
gradient by central differences of every input of its forward at one input, the way the
course's notebooks call ``eval_numerical_gradient_array``, in this process, with no sandbox,
no search and no diagnosis.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/course_grading.py \\
        [--repeats 5] [--corpus]

``--corpus`` also validates every file of tests/corpus/cs231n-a1, -a2 and -a3 and prints the
corpus figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from random import Random
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._threads import pin_threads

pin_threads(1)

import numpy as np  # noqa: E402
from hypothesis import Phase, find, settings  # noqa: E402

from gradcheck.student.assignment import get_assignment  # noqa: E402
from gradcheck.student.catalogue.check import FunctionCase, FunctionCheck  # noqa: E402
from gradcheck.student.sandbox import Limits  # noqa: E402
from gradcheck.student.validate import validate_submission  # noqa: E402
from tests.student.corpus import Expectation, corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMPLETE = ROOT / "tests/corpus/cs231n-a2/correct_layers_complete.py"
PRESETS = ("cs231n-a1", "cs231n-a2", "cs231n-a3")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("course_file", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _a_case(check: FunctionCheck) -> FunctionCase:
    """One random case of the usual size, as the search meets them."""
    config = settings(max_examples=5, phases=[Phase.generate], database=None, deadline=None)
    return check.variant(find(check.cases(), lambda _: True, settings=config, random=Random(1)), 1)


def _numerical(module: ModuleType, check: FunctionCheck, case: FunctionCase) -> None:
    """Central differences of ⟨dout, forward(inputs)⟩ in every entry of every input."""
    fn = check.function
    forward = getattr(module, fn.forward)
    values: dict[str, Any] = {k: check_copy(v) for k, v in case.values.items()}

    def objective() -> float:
        out = forward(*(check_copy(values[n]) for n in fn.call_order))
        outputs = out if isinstance(out, tuple) else (out,)
        if fn.backward is None:
            return float(outputs[0])
        return float(
            sum(
                np.sum(o * case.douts[f"d{s.name}"])
                for o, s in zip(outputs, fn.outputs, strict=False)
            )
        )

    for grad in fn.grads:
        x = values[fn.wrt(grad)]
        for index in np.ndindex(x.shape):
            keep = x[index]
            x[index] = keep + 1e-5
            up = objective()
            x[index] = keep - 1e-5
            down = objective()
            x[index] = keep
            _ = (up - down) / 2e-5


def check_copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: check_copy(v) for k, v in value.items()}
    return value


def _anchor(path: Path, preset: str) -> float:
    module = _load(path)
    checks = [c for c in get_assignment(preset).checks if isinstance(c, FunctionCheck)]
    present = [c for c in checks if all(hasattr(module, e) for e in c.entry_points)]
    cases = [(c, _a_case(c)) for c in present]
    start = time.perf_counter()
    for check, case in cases:
        if check.function.backward is None or case.douts:
            _numerical(module, check, case)
    return time.perf_counter() - start


def _whole_file(repeats: int) -> None:
    assignment = get_assignment("cs231n-a2")
    seconds, anchors, result = [], [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = validate_submission(COMPLETE, assignment, limits=Limits(timeout=120.0))
        seconds.append(time.perf_counter() - start)
        anchors.append(_anchor(COMPLETE, "cs231n-a2"))
    assert result is not None
    median, anchor = statistics.median(seconds), statistics.median(anchors)
    print(
        f"a whole assignment-2 layers.py ({len(result.checks)} functions graded, "
        f"{result.verdict.upper()} {result.score:g}/{result.max_score:g}), {repeats} runs:\n"
        f"  gradcheck validate --assignment cs231n-a2: median {median:.2f} s (target <= 5 s)\n"
        f"  anchor, the course's numerical gradient of each function once, in-process: "
        f"median {anchor:.3f} s ({median / anchor:.0f}x)"
    )
    slow = sorted(((c.examples, c.check) for c in result.checks), reverse=True)[:3]
    print(f"  examples per function: {', '.join(f'{name} {n}' for n, name in slow)}, …")


def _corpus_figures() -> None:
    entries = [e for e in corpus() if e.assignment in PRESETS]
    rows: dict[str, list[tuple[Expectation, Any]]] = {}
    for entry in entries:
        result = validate_submission(
            entry.path, get_assignment(entry.assignment), limits=Limits(timeout=120.0)
        )
        rows.setdefault(entry.assignment, []).append((entry, result))
    print("corpus | files | correct | false failures | bugs | detected | diagnosed right")
    for name, pairs in sorted(rows.items()):
        correct = [(e, r) for e, r in pairs if e.path.stem.startswith("correct")]
        bugs = [(e, r) for e, r in pairs if e.path.stem.startswith("bug")]
        false = sum(any(c.status in ("fail", "error") for c in r.checks) for _, r in correct)
        detected = sum(any(c.status in ("fail", "error") for c in r.checks) for _, r in bugs)
        right = sum(
            bool(r.labels) and e.labels <= {str(label) for label in r.labels} for e, r in bugs
        )
        share = f"{100 * right / len(bugs):.0f}%" if bugs else "-"
        print(
            f"{name} | {len(pairs)} | {len(correct)} | {false} | {len(bugs)} | "
            f"{detected} | {right} ({share})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--corpus", action="store_true", help="also the corpus figures")
    args = parser.parse_args()
    _whole_file(args.repeats)
    if args.corpus:
        _corpus_figures()


if __name__ == "__main__":
    main()
