"""Assignments declared in TOML: catalogue functions with points and groups, functions
declared without Python (checked against finite differences of the submission's own
forward), the course presets, and a clear error for every mistake in a spec."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradcheck.errors import GradcheckError
from gradcheck.student.assignment import get_assignment
from gradcheck.student.custom import load_assignment
from gradcheck.student.sandbox import Limits
from gradcheck.student.validate import validate_submission

LIMITS = Limits(timeout=120.0)

SCALE_SHIFT = """
name = "hw-scale"
title = "A declared layer"

[[function]]
name = "scale_shift"
forward = "scale_shift_forward"
backward = "scale_shift_backward"
points = 4
sizes = { N = [1, 4], D = [1, 4] }
inputs = [
  { name = "x", shape = ["N", "D"] },
  { name = "gamma", shape = ["D"], domain = "positive" },
  { name = "beta", shape = ["D"] },
]
configs = [ { name = "sp_param", values = [ { power = 2 }, { power = 3 } ] } ]
outputs = [ { name = "out", shape = ["N", "D"] } ]
grads = ["dx", "dgamma", "dbeta"]
examples = 10
"""

CORRECT = """
import numpy as np

def scale_shift_forward(x, gamma, beta, sp_param):
    p = sp_param["power"]
    out = gamma * x ** p + beta
    return out, (x, gamma, p)

def scale_shift_backward(dout, cache):
    x, gamma, p = cache
    return dout * gamma * p * x ** (p - 1), (dout * x ** p).sum(axis=0), dout.sum(axis=0)
"""


def _spec(tmp_path: Path, text: str, name: str = "hw.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _submission(tmp_path: Path, text: str, name: str = "student.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_declared_function_passes_when_it_agrees_with_its_own_forward(tmp_path: Path) -> None:
    assignment = load_assignment(_spec(tmp_path, SCALE_SHIFT))
    result = validate_submission(_submission(tmp_path, CORRECT), assignment, limits=LIMITS)
    assert result.verdict == "pass", result.message
    assert [c.status for c in result.checks] == ["pass"]


@pytest.mark.parametrize(
    "bug",
    [
        ("gamma", "(dout * x ** p).sum(axis=0)", "(dout * x).sum(axis=0)"),  # the power lost
        ("beta", "dout.sum(axis=0)", "dout.mean(axis=0)"),  # averaged, not summed
        ("x", "dout * gamma * p * x ** (p - 1)", "dout * gamma * x ** (p - 1)"),  # p dropped
    ],
    ids=["dgamma", "dbeta", "dx"],
)
def test_a_declared_function_with_a_wrong_gradient_fails(
    tmp_path: Path, bug: tuple[str, str, str]
) -> None:
    which, right, mistake = bug
    assignment = load_assignment(_spec(tmp_path, SCALE_SHIFT))
    wrong = CORRECT.replace(right, mistake)
    assert wrong != CORRECT
    result = validate_submission(_submission(tmp_path, wrong), assignment, limits=LIMITS)
    assert result.verdict == "fail", result.message
    failed = {r.tensor for r in result.checks[0].records if r.verdict == "fail"}
    assert failed == {f"d{which}"}, result.message


def test_a_declared_function_without_a_cache_gets_the_forward_arguments(tmp_path: Path) -> None:
    spec = """
    [[function]]
    name = "square"
    forward = "square_forward"
    backward = "square_backward"
    cache = false
    sizes = { N = [1, 3] }
    inputs = [ { name = "x", shape = ["N"] } ]
    outputs = [ { name = "out", shape = ["N"] } ]
    grads = ["dx"]
    examples = 8
    """
    code = """
    def square_forward(x):
        return x * x

    def square_backward(dout, x):
        return 2 * x * dout
    """
    assignment = load_assignment(_spec(tmp_path, spec))
    result = validate_submission(_submission(tmp_path, code), assignment, limits=LIMITS)
    assert result.verdict == "pass", result.message
    wrong = code.replace("2 * x * dout", "x * dout")
    result = validate_submission(_submission(tmp_path, wrong, "b.py"), assignment, limits=LIMITS)
    assert result.verdict == "fail", result.message


def test_catalogue_functions_take_the_names_a_course_uses(tmp_path: Path) -> None:
    spec = """
    [[function]]
    use = "affine"
    forward = "fc_forward"
    backward = "fc_backward"
    points = 2
    """
    code = """
    def fc_forward(x, w, b):
        return x.reshape(x.shape[0], -1) @ w + b, (x, w)

    def fc_backward(dout, cache):
        x, w = cache
        return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(0)
    """
    assignment = load_assignment(_spec(tmp_path, spec))
    assert assignment.entry_points == ("fc_forward", "fc_backward")
    result = validate_submission(_submission(tmp_path, code), assignment, limits=LIMITS)
    assert result.verdict == "pass", result.message


def test_a_group_is_graded_only_when_the_file_defines_some_of_it(tmp_path: Path) -> None:
    """cs231n-a1: a linear_svm.py is graded on the SVM losses only, not on softmax.py's."""
    code = (Path(__file__).parent.parent / "corpus/cs231n-a1").glob("correct_linear_svm*.py")
    result = validate_submission(next(code), get_assignment("cs231n-a1"), limits=LIMITS)
    assert result.verdict == "pass", result.message
    assert [c.check for c in result.checks] == ["svm_loss_naive", "svm_loss_vectorized"]
    assert result.score == result.max_score > 0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[function]]\nuse = "batchnrom"\n', "unknown layer function 'batchnrom'"),
        ('[[function]]\nuse = "affine"\npoints = -1\n', "points must be a number > 0"),
        ('[[function]]\nuse = "affine"\nsizes = { N = [1, 2] }\n', "applies only to a function"),
        ('[[function]]\nuse = "affine"\nforward = "not a name"\n', "must be a Python name"),
        ('[[function]]\nuse = "affine"\ncolour = 1\n', "unknown key 'colour'"),
        ('[[function]]\nuse = "softmax_loss"\nbackward = "b"\n', "has no backward to rename"),
        ('[[function]]\nuse = "affine"\n[[function]]\nuse = "affine"\n', "graded twice"),
        ('title = "nothing"\nfunction = []\n', "no [[function]] or [[class]]"),
        ("[[function]]\nname = 'f'\nforward = 'f'\n", "must declare 'sizes'"),
        (
            "[[function]]\nname='f'\nforward='f'\nbackward='g'\nsizes={N=[1,2]}\n"
            "inputs=[{name='x', shape=['M']}]\noutputs=[{name='out', shape=['N']}]\ngrads=['dx']\n",
            "names size 'M'",
        ),
        (
            "[[function]]\nname='f'\nforward='f'\nbackward='g'\nsizes={N=[1,2]}\n"
            "inputs=[{name='x', shape=['N']}]\noutputs=[{name='out', shape=['N']}]\ngrads=['dy']\n",
            "grads lists 'dy'",
        ),
        (
            "[[function]]\nname='f'\nforward='f'\nbackward='g'\nsizes={N=[0,2]}\n"
            "inputs=[{name='x', shape=['N']}]\noutputs=[{name='out', shape=['N']}]\ngrads=['dx']\n",
            "1 <= low <= high",
        ),
        (
            "[[function]]\nname='f'\nforward='f'\nbackward='g'\nsizes={N=[1,2]}\n"
            "inputs=[{name='x', shape=['N'], domain='complex'}]\n"
            "outputs=[{name='out', shape=['N']}]\ngrads=['dx']\n",
            "domain 'complex'",
        ),
        (
            "[[function]]\nname='f'\nforward='f'\nbackward='g'\nsizes={N=[1,2]}\n"
            "inputs=[{name='y', shape=['N'], domain='labels'}]\n"
            "outputs=[{name='out', shape=['N']}]\ngrads=[]\n",
            "needs `high`",
        ),
    ],
    ids=[
        "unknown-function", "negative-points", "declared-key-on-catalogue", "bad-name",
        "unknown-key", "loss-has-no-backward", "twice", "empty", "missing-key",
        "unknown-size", "grad-of-nothing", "size-zero", "bad-domain", "labels-without-high",
    ],
)  # fmt: skip
def test_mistakes_in_a_declaration_are_named(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(GradcheckError, match=None) as raised:
        load_assignment(_spec(tmp_path, text))
    assert needle in str(raised.value), str(raised.value)
    assert "hw.toml" in str(raised.value)


def test_every_preset_loads_and_names_catalogue_functions() -> None:
    from gradcheck.student.builtin import PRESETS

    names = sorted(p.stem for p in PRESETS.glob("*.toml"))
    assert "cs231n-a1" in names
    for name in names:
        assignment = get_assignment(name)
        assert assignment.checks and all(c.points > 0 for c in assignment.checks)
