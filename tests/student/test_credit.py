"""Partial credit on real submissions: points per check, the ``partial`` verdict and its
headline, a timeout part-way through, functions that are not graded, and a hidden check that
stays hidden from the student while the instructor's record keeps everything."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from gradcheck.report.gradescope import render_gradescope
from gradcheck.report.grading import write_grading
from gradcheck.report.prairielearn import render_prairielearn
from gradcheck.student.assignment import get_assignment
from gradcheck.student.contract import Assignment, graded
from gradcheck.student.grade import INSTRUCTOR, Batch, grade_folder
from gradcheck.student.sandbox import Limits
from gradcheck.student.validate import validate_submission
from tests.student.corpus import CORPUS

LAYERS = CORPUS / "layers"
# A budget no busy runner runs out of, except where the test is about the timeout.
LIMITS = Limits(timeout=120.0)


def _weighted() -> Assignment:
    """The layers assignment with affine worth 4 and tanh worth 2 and hidden."""
    layers = get_assignment("layers")
    checks = []
    for check in layers.checks:
        if check.name == "affine":
            check = graded(check, points=4)
        elif check.name == "tanh":
            check = graded(check, points=2, feedback="hidden", visibility="after_due_date")
        checks.append(check)
    return Assignment("weighted", "weighted layers", layers.contract, tuple(checks), partial=True)


def test_a_hidden_check_is_scored_by_its_points_and_shows_no_value() -> None:
    path = LAYERS / "bug_tanh_backward_sign.py"
    result = validate_submission(path, _weighted(), examples=10, limits=LIMITS)
    assert (result.verdict, result.score, result.max_score) == ("partial", 8.0, 10.0)
    lines = result.message.splitlines()
    assert lines[0] == "PARTIAL 8/10: bug_tanh_backward_sign.py against assignment weighted"
    assert "tanh: failed (0/2 points)" in lines
    tanh = next(c for c in result.checks if c.check == "tanh")
    assert tanh.status == "fail" and tanh.records and tanh.counterexample is not None
    student = {
        "message": result.message,
        "gradescope": render_gradescope(result.to_dict()),
        "prairielearn": render_prairielearn(result.to_dict()),
    }
    for where, text in student.items():
        assert "sign_flip" not in text, where
        assert "tanh_backward(dout, cache)" not in text, where  # its reproduction
        for record in tanh.records:
            assert f"expected {record.value_b:.9g}" not in text, where
            assert record.tensor + "[" not in text, where
    # the instructor's record keeps all of it
    record = result.to_dict()
    assert "sign_flip" in record["labels"] and "sign_flip" not in record["student_labels"]
    held = next(c for c in record["checks"] if c["check"] == "tanh")
    assert held["records"] and "expected" in held["message"]
    assert held["counterexample"]["reproduce"] == tanh.counterexample.snippet
    document = json.loads(student["gradescope"])
    test = next(t for t in document["tests"] if t["name"] == "tanh")
    assert test["visibility"] == "after_due_date" and test["max_score"] == 2.0


HANGS_IN_SIGMOID = """import numpy as np


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, x):
    return dout * (x > 0)


def sigmoid_forward(x):
    while True:
        pass


def sigmoid_backward(dout, cache):
    return dout


def tanh_forward(x):
    return np.tanh(x), np.tanh(x)


def tanh_backward(dout, t):
    return dout * (1 - t * t)
"""


def test_a_timeout_after_two_checks_keeps_their_points(tmp_path: Path) -> None:
    path = tmp_path / "hangs.py"
    path.write_text(HANGS_IN_SIGMOID)
    result = validate_submission(
        path, get_assignment("layers"), examples=5, limits=Limits(timeout=10.0)
    )
    assert (result.verdict, result.score, result.max_score) == ("partial", 2.0, 6.0)
    assert "timeout" in result.labels
    statuses = {c.check: c.status for c in result.checks}
    assert statuses == {
        "affine": "pass",
        "relu": "pass",
        "sigmoid": "error",
        "tanh": "not_run",
        "softmax_loss": "not_implemented",
        "mse_loss": "not_implemented",
    }
    assert result.message.startswith("PARTIAL 2/6: hangs.py against assignment layers")
    assert "tanh: not run, the submission's process had stopped" in result.message


def test_functions_the_assignment_does_not_check_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "carl.py"
    path.write_text(
        "import os\nfrom numpy import einsum\nSCALE = 2.0\n\n\n"
        "def back_prop(X, y, weights, biases):\n    return {}\n\n\n"
        "def helper():\n    return 1\n\n\ndef _private():\n    return 2\n\n\n"
        "class Plotter:\n    pass\n"
    )
    result = validate_submission(path, get_assignment("two-layer"), limits=LIMITS)
    assert (result.verdict, result.score, result.max_score) == ("fail", 0.0, 1.0)
    assert result.not_graded == ("Plotter", "back_prop", "helper")
    assert result.message.startswith("FAIL 0/1: carl.py against assignment two-layer")
    assert "Not graded (this assignment does not check them): Plotter, back_prop, helper" in (
        result.message.splitlines()
    )
    assert result.to_dict()["not_graded"] == ["Plotter", "back_prop", "helper"]


def test_a_class_with_a_partial_submission_is_graded_and_resumed(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(LAYERS / "correct_full.py", folder / "alice.py")
    shutil.copy(LAYERS / "correct_partial.py", folder / "bob.py")
    out = tmp_path / "out"
    batch = Batch("layers", examples=5, seed=0, limits=LIMITS)
    records = grade_folder(folder, out, batch, jobs=1)
    assert {r["id"]: r["verdict"] for r in records} == {"alice": "pass", "bob": "partial"}
    write_grading(records, out, ("gradebook", "prairielearn", "gradescope"), "layers")
    rows = list(csv.DictReader((out / "gradebook.csv").read_text().splitlines()))
    assert [(r["id"], r["percent"], r["verdict"]) for r in rows] == [
        ("alice", "100.00", "pass"),
        ("bob", "33.33", "partial"),
    ]
    assert json.loads((out / "bob" / "prairielearn.json").read_text())["score"] == 2 / 6
    assert json.loads((out / "bob" / "results.json").read_text())["score"] == 2.0
    assert json.loads((out / "bob" / INSTRUCTOR).read_text())["verdict"] == "partial"
    again: list[str] = []
    grade_folder(folder, out, batch, jobs=1, resume=True, on_result=lambda r: again.append(r["id"]))
    assert again == []  # the partial record was read back as a valid one
