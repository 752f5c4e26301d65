"""What a failing check's message says, on real submissions run in the sandbox: every wrong
tensor (two independent bugs are both reported), an input mutation named as the likely cause
and not blamed on the forward pass, masked arrays and np.matrix named, the submission's own
module in the reproduction, and never a "Likely mistake(s):" heading with nothing under it
(checked on these and on corpus files that used to show one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.student.assignment import get_assignment
from gradcheck.student.result import SubmissionResult
from gradcheck.student.sandbox import Limits
from gradcheck.student.validate import validate_submission
from tests.student.corpus import CORPUS, read_expectation

HEADING = "  Likely mistake(s):"

AFFINE_FORWARD = """
import numpy as np


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)
"""

RELU_FORWARD = """
import numpy as np


def relu_forward(x):
    return np.maximum(0, x), x
"""

SUBMISSIONS = {
    # dw twice too large and db with the wrong sign: two independent bugs.
    "two_bugs": AFFINE_FORWARD
    + """

def affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), 2 * (flat.T @ dout), -dout.sum(axis=0)
""",
    "mutates_dout": RELU_FORWARD
    + """

def relu_backward(dout, cache):
    dout[cache <= 0] = 0
    return dout
""",
    "masked": RELU_FORWARD
    + """

def relu_backward(dout, cache):
    return np.ma.masked_where(cache <= 0, dout)
""",
    "matrix": AFFINE_FORWARD
    + """

def affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), np.asmatrix(flat.T @ dout), dout.sum(axis=0)
""",
}


def _validate(path: Path, assignment: str = "layers") -> SubmissionResult:
    limits = Limits(timeout=120.0, memory_mb=2048)
    return validate_submission(path, get_assignment(assignment), examples=10, limits=limits)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    folder = tmp_path_factory.mktemp("messages")
    found = {}
    for name, source in SUBMISSIONS.items():
        path = folder / f"student_{name}.py"
        path.write_text(source)
        found[name] = _validate(path)
    return found


def assert_no_empty_heading(message: str) -> None:
    lines = message.splitlines()
    for i, line in enumerate(lines):
        if line == HEADING:
            assert i + 1 < len(lines) and lines[i + 1].startswith("    "), message


def test_two_independent_bugs_are_both_reported(results: dict[str, SubmissionResult]) -> None:
    message = results["two_bugs"].message
    assert "dw (shape" in message and "db (shape" in message, message
    assert "yours = 2 × expected" in message and "yours = -1 × expected" in message, message
    assert {"scaled", "sign_flip"} <= {str(label) for label in results["two_bugs"].labels}


def test_an_input_mutation_is_the_likely_cause(results: dict[str, SubmissionResult]) -> None:
    result = results["mutates_dout"]
    assert "mutates_input" in {str(label) for label in result.labels}
    assert "Likely cause: the code changed its input dout in place" in result.message
    assert "forward needs a look" not in result.message, result.message


def test_a_masked_array_is_named(results: dict[str, SubmissionResult]) -> None:
    result = results["masked"]
    assert "dx is a numpy masked array; return a plain numpy.ndarray" in result.message
    assert "bad_return" in {str(label) for label in result.labels}
    assert "--" not in result.message.split("Reproduce with:")[0]


def test_a_matrix_is_named(results: dict[str, SubmissionResult]) -> None:
    result = results["matrix"]
    assert "dw is a numpy.matrix, which is always 2-D" in result.message, result.message
    assert "bad_return" in {str(label) for label in result.labels}


def test_the_reproduction_imports_the_submissions_own_module(
    results: dict[str, SubmissionResult],
) -> None:
    snippet = results["two_bugs"].checks[0].counterexample
    assert snippet is not None
    assert "from student_two_bugs import affine_forward, affine_backward" in snippet.snippet
    assert "from submission import" not in results["two_bugs"].message


def test_no_heading_without_content(results: dict[str, SubmissionResult]) -> None:
    for result in results.values():
        assert result.verdict == "fail"
        assert_no_empty_heading(result.message)


# Corpus files whose message used to end a heading with nothing under it: a contract
# problem only (a shape, missing keys, a crash), or a mutation only.
SAMPLE = [
    "layers/bug_relu_backward_mutates_dout",
    "layers/bug_affine_dw_transposed",
    "coursera/bug_db_no_keepdims",
    "deep-mlp/bug_depth1_crash",
]


@pytest.mark.parametrize("name", SAMPLE)
def test_corpus_failures_have_no_empty_heading(name: str) -> None:
    expect = read_expectation(CORPUS / f"{name}.py")
    result = _validate(expect.path, expect.assignment)
    assert result.verdict == expect.verdict != "pass", result.message
    assert_no_empty_heading(result.message)
