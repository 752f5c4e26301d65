"""Instructors' own assignments: specs are read (never executed) and checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.errors import GradcheckError, UnknownNameError
from gradcheck.student.custom import load_assignment, resolve_assignment


def test_python_spec_is_read_without_running_it(tmp_path: Path) -> None:
    spec = tmp_path / "hw4.py"
    spec.write_text(
        "raise SystemExit('never run')\n"
        "ASSIGNMENT = {'name': 'hw4', 'convention': 'coursera', 'max_depth': 2,"
        " 'forbidden': ['torch', 'scipy']}\n"
    )
    assignment = load_assignment(spec)
    assert assignment.name == "hw4" and assignment.forbidden == ("torch", "scipy")
    assert assignment.entry_points == ("L_model_forward", "L_model_backward")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('convention = "deep-mlp"\nactivations = ["swish_typo"]\n', "swish_typo"),
        ('convention = "deep-mlp"\nlosses = ["huber"]\n', "losses must be among"),
        ('convention = "two-layers"\n', "did you mean 'two-layer'"),
        ('convention = "nielsen"\nentry_point = "bp"\n', "takes only"),
        ('name = "x"\n', "'convention' is required"),
        ("convention = \n", "assignment spec"),
        ('convention = "coursera"\nmin_depth = 3\nmax_depth = 2\n', "max_depth=2"),
    ],
    ids=[
        "bad-activation",
        "bad-loss",
        "bad-convention",
        "rename-class",
        "no-convention",
        "toml",
        "depths",
    ],
)
def test_bad_specs_are_named(tmp_path: Path, text: str, needle: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    with pytest.raises((GradcheckError, UnknownNameError)) as error:
        resolve_assignment(str(spec))
    assert needle in str(error.value)
