"""Partial credit and the formats instructors upload, on results built by hand (no sandbox).

Points per check, the verdict they give, Gradescope's and PrairieLearn's documents, the
gradebook CSV, and above all: what a check's feedback level hides stays out of every
student-facing writer while the instructor's record keeps it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from gradcheck.compare import compare_tensor
from gradcheck.errors import GradcheckError, SpecError
from gradcheck.numeric.steps import TOLERANCES
from gradcheck.report.gradescope import VISIBILITIES as GRADESCOPE_VISIBILITIES
from gradcheck.report.gradescope import render_gradescope
from gradcheck.report.grading import (
    check_grade_formats,
    class_writers,
    render_gradebook,
    write_grading,
)
from gradcheck.report.prairielearn import render_prairielearn
from gradcheck.report.submission import SUBMISSION_WRITERS, render_submission_json
from gradcheck.student.contract import VISIBILITIES, Assignment, graded
from gradcheck.student.diagnose import Diagnosis
from gradcheck.student.feedback import student_text
from gradcheck.student.labels import ERROR_LABELS, Label, verdict_for
from gradcheck.student.layers import AffineCheck
from gradcheck.student.result import CheckOutcome, Counterexample, SubmissionResult
from gradcheck.student.results_log import record_problem

TIGHT = TOLERANCES[("float64", "analytic")]
# Numbers that occur nowhere but in the run: the reference's value, the input the check drew
# and the factor between the two. None may reach a student past the check's feedback level.
REFERENCE, YOURS, INPUT = 2.718281828, 3.14159265, 1.6180339887
SECRETS = {
    "reference": ("2.71828", "71828"),
    "input": ("1.61803", "61803"),
    "factor": ("1.1557",),
}


@pytest.mark.parametrize(
    ("labels", "score", "max_score", "verdict"),
    [
        (set(), 6.0, 6.0, "pass"),
        (set(), 2.0, 6.0, "partial"),  # the rest not implemented
        ({Label.SIGN_FLIP}, 5.0, 6.0, "partial"),  # the rest failed
        ({Label.TIMEOUT}, 4.0, 10.0, "partial"),  # timed out after four passed
        ({Label.TIMEOUT}, 0.0, 10.0, "error"),
        ({Label.SYNTAX_ERROR}, 0.0, 3.0, "error"),
        ({Label.CRASH}, 0.0, 6.0, "fail"),
        (set(), 0.0, 6.0, "fail"),
        ({Label.FORBIDDEN_IMPORT}, 6.0, 6.0, "partial"),  # a label is never a pass
    ],
)
def test_the_verdict_follows_the_score(
    labels: set[Label], score: float, max_score: float, verdict: str
) -> None:
    assert verdict_for(labels, score, max_score) == verdict


def test_every_error_label_with_no_points_is_an_error() -> None:
    for label in ERROR_LABELS:
        assert verdict_for({label}, 0.0, 1.0) == "error"
        assert verdict_for({label}, 0.5, 1.0) == "partial"


def test_graded_sets_points_and_feedback_on_a_copy() -> None:
    check = AffineCheck()
    worth = graded(check, points=4, feedback="hidden", visibility="after_due_date")
    assert (worth.points, worth.feedback, worth.visibility) == (4.0, "hidden", "after_due_date")
    assert (check.points, check.feedback, check.visibility) == (1.0, "full", "visible")
    assert worth.name == check.name and type(worth) is type(check)
    assert graded(worth, points=2).feedback == "hidden"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"points": 0}, "points must be a number > 0"),
        ({"points": -1.5}, "points must be a number > 0"),
        ({"points": float("nan")}, "points must be a number > 0"),
        ({"points": True}, "points must be a number > 0"),
        ({"feedback": "some"}, "feedback must be one of full, diagnosis, hidden"),
        ({"visibility": "later"}, "visibility must be one of visible, hidden, after_due_date"),
    ],
)
def test_graded_names_a_bad_value(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpecError, match=needle) as caught:
        graded(AffineCheck(), **kwargs)
    assert "affine" in str(caught.value)


def test_an_assignment_refuses_a_check_worth_nothing() -> None:
    check = AffineCheck()
    check.points = 0.0
    with pytest.raises(SpecError, match="check affine: points must be a number > 0"):
        Assignment("a", "A", "contract", (check,))
    assert Assignment("a", "A", "c", (graded(check, points=2.5), AffineCheck())).max_score == 3.5


def test_the_two_lists_of_visibilities_agree() -> None:
    assert GRADESCOPE_VISIBILITIES == VISIBILITIES


def _failed(name: str, feedback: str, max_points: float) -> CheckOutcome:
    """A failed check as validate writes it, with the secret numbers in its full story."""
    record = compare_tensor("dx", np.array([[YOURS]]), np.array([[REFERENCE]]), tolerance=TIGHT)
    snippet = f"x = np.array([[{INPUT!r}]])\nprint({name}_backward(x))"
    outcome = CheckOutcome(
        name,
        "fail",
        12,
        (record,),
        (Diagnosis(Label.SCALED, f"c × the gradient with c = {YOURS / REFERENCE:.6g}", ("dx",)),),
        Counterexample(name, "batch 1", {"x": [[INPUT]]}, snippet),
        message=f"{name}: FAILED on the smallest input found (batch 1).\n"
        f"  dx[0, 0]: yours {YOURS:.9g}, expected {REFERENCE:.9g}\n"
        f"  Likely mistake(s):\n    scaled: dx: c × the gradient with c = {YOURS / REFERENCE:.6g}",
        max_points=max_points,
        feedback=feedback,  # type: ignore[arg-type]
    )
    return replace(outcome, student_message=student_text(outcome))


def _passed(name: str, points: float) -> CheckOutcome:
    outcome = CheckOutcome(
        name, "pass", 12, message=f"{name}: passed on 12 inputs", points=points, max_points=points
    )
    return replace(outcome, student_message=student_text(outcome))


def _result(*checks: CheckOutcome) -> SubmissionResult:
    score = sum(c.points for c in checks)
    max_score = sum(c.max_points for c in checks)
    labels = tuple(dict.fromkeys(label for c in checks for label in c.labels))
    verdict = verdict_for(set(labels), score, max_score)
    return SubmissionResult(
        "bob.py",
        "cs231n-a2",
        verdict,
        labels,
        checks,
        "\n".join(
            [f"{verdict.upper()} {score:g}/{max_score:g}: bob.py against assignment cs231n-a2"]
            + [c.student_message for c in checks]
        ),
        score,
        max_score,
        0,
        1.0,
        not_graded=("helper",),
    )


STUDENT_WRITERS = {
    "gradescope": render_gradescope,
    "prairielearn": render_prairielearn,
    "md": SUBMISSION_WRITERS.render["md"],
    "html": SUBMISSION_WRITERS.render["html"],
    "junit": SUBMISSION_WRITERS.render["junit"],
}


def _leaks(text: str, kinds: tuple[str, ...]) -> list[str]:
    return [f"{kind} {s}" for kind in kinds for s in SECRETS[kind] if s in text]


@pytest.mark.parametrize("writer", sorted(STUDENT_WRITERS))
@pytest.mark.parametrize("feedback", ["hidden", "diagnosis"])
def test_what_the_feedback_level_hides_reaches_no_student(writer: str, feedback: str) -> None:
    hidden = tuple(SECRETS)
    data = _result(_passed("affine", 4.0), _failed("tanh", feedback, 2.0)).to_dict()
    text = STUDENT_WRITERS[writer](data)
    assert not _leaks(text, hidden), text
    assert "tanh" in text
    # the instructor's record keeps all of it
    everything = json.dumps(data)
    assert all(s in everything for kind in hidden for s in SECRETS[kind])


@pytest.mark.parametrize("writer", ["gradescope", "prairielearn", "md"])
def test_full_feedback_shows_the_values_and_how_to_reproduce(writer: str) -> None:
    data = _result(_passed("affine", 4.0), _failed("tanh", "full", 2.0)).to_dict()
    text = STUDENT_WRITERS[writer](data)
    assert _leaks(text, ("reference",)), text
    if writer != "md":  # the Markdown quotes the message, which has no snippet here
        assert _leaks(text, ("input",)), text


def test_the_diagnosis_level_names_the_mistake_and_the_hidden_level_does_not() -> None:
    diagnosis = student_text(_failed("tanh", "diagnosis", 2.0))
    hidden = student_text(_failed("tanh", "hidden", 2.0))
    assert diagnosis.startswith("tanh: failed (0/2 points)") and "scaled" in diagnosis
    assert "in dx" in diagnosis
    assert hidden == "tanh: failed (0/2 points)"


def test_gradescope_scores_each_check_by_its_points() -> None:
    hidden = replace(_failed("tanh", "hidden", 2.0), visibility="after_due_date")
    data = _result(_passed("affine", 4.0), _passed("relu", 1.5), hidden).to_dict()
    document = json.loads(render_gradescope(data))
    assert (document["score"], document["max_score"]) == (5.5, 7.5)
    tests = {t["name"]: t for t in document["tests"]}
    assert (tests["affine"]["score"], tests["affine"]["max_score"]) == (4.0, 4.0)
    assert tests["affine"]["status"] == "passed" and tests["affine"]["visibility"] == "visible"
    assert (tests["tanh"]["score"], tests["tanh"]["max_score"]) == (0.0, 2.0)
    assert tests["tanh"]["status"] == "failed"
    assert tests["tanh"]["visibility"] == "after_due_date"
    assert tests["tanh"]["output"] == "tanh: failed (0/2 points)"
    assert "Not graded: helper" in document["output"]
    assert "scaled" not in document["output"]  # the hidden check's label


def test_prairielearn_gives_the_fraction_and_points_per_test() -> None:
    data = _result(_passed("affine", 4.0), _failed("tanh", "diagnosis", 2.0)).to_dict()
    document = json.loads(render_prairielearn(data))
    assert document["gradable"] is True and document["score"] == pytest.approx(4 / 6)
    assert document["message"].startswith("PARTIAL 4/6: bob.py")
    tests = {t["name"]: t for t in document["tests"]}
    assert (tests["affine"]["points"], tests["affine"]["max_points"]) == (4.0, 4.0)
    assert (tests["tanh"]["points"], tests["tanh"]["max_points"]) == (0.0, 2.0)
    assert tests["tanh"]["message"] == "tanh: failed (0/2 points)"
    assert "scaled" in tests["tanh"]["output"]
    assert set(document) == {"gradable", "score", "message", "output", "tests"}


def test_prairielearn_marks_a_file_that_was_never_run_as_not_gradable() -> None:
    record = {"verdict": "error", "score": 0, "max_score": 6, "checks": [], "message": "ERROR"}
    assert json.loads(render_prairielearn(record))["gradable"] is False
    record["verdict"] = "fail"
    assert json.loads(render_prairielearn(record))["gradable"] is True


RECORDS = [
    {"id": "alice", "verdict": "pass", "score": 6.0, "max_score": 6.0, "labels": []},
    {"id": "bob", "verdict": "partial", "score": 4.5, "max_score": 6.0, "labels": ["scaled"]},
    {"id": "=cmd", "verdict": "error", "score": 0, "max_score": 6.0, "labels": ["timeout"]},
]


def test_the_gradebook_has_one_row_per_student_with_the_percentage() -> None:
    rows = list(csv.DictReader(io.StringIO(render_gradebook(RECORDS))))
    assert [r["id"] for r in rows] == ["alice", "bob", "'=cmd"]  # no formula
    assert [r["percent"] for r in rows] == ["100.00", "75.00", "0.00"]
    assert [r["verdict"] for r in rows] == ["pass", "partial", "error"]
    assert rows[1]["score"] == "4.5" and rows[1]["max_score"] == "6.0"
    assert rows[1]["labels"] == "scaled"


def test_the_class_report_counts_partial_submissions() -> None:
    text = class_writers("cs231n-a2").render["md"](RECORDS)
    assert "3 submissions: 1 pass, 1 partial, 0 fail, 1 error" in text


def test_grading_writes_the_chosen_files_and_names_an_unknown_one(tmp_path: Path) -> None:
    records = [{**r, "checks": [], "message": str(r["verdict"])} for r in RECORDS[:2]]
    written = write_grading(records, tmp_path, ("gradebook", "prairielearn"), "a2")
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == ["alice/prairielearn.json", "bob/prairielearn.json", "gradebook.csv"]
    with pytest.raises(GradcheckError, match=r"unknown grading format 'moodle'.*gradebook"):
        check_grade_formats(("csv", "moodle"))


def test_the_results_log_accepts_partial_and_nothing_else_new() -> None:
    record = {"id": "bob", "verdict": "partial", "score": 4.5, "max_score": 6.0}
    assert record_problem(record) is None
    assert "partial" in str(record_problem({**record, "verdict": "half"}))


def test_the_submission_json_matches_its_schema() -> None:
    schema_file = resources.files("gradcheck.report").joinpath("schemas/submission.schema.json")
    schema = json.loads(schema_file.read_text())
    data = _result(_passed("affine", 4.0), _failed("tanh", "hidden", 2.0)).to_dict()
    document = json.loads(render_submission_json(data))
    jsonschema.validate(document, schema)
    assert document["results"]["verdict"] == "partial"
    jsonschema.validate(json.loads(render_submission_json([data, data])), schema)
    document["results"]["checks"][1]["feedback"] = "some"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
