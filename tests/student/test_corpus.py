"""Every submission in tests/corpus gets the verdict and the labels its header states.

Correct files (vectorised, looped, einsum, ReLU with ``>=`` at zero, messy top-level code)
must pass; every buggy file must fail with its label (or be ``partial``, in an assignment of
several checks where the others pass or are not written); hostile files (hangs, memory hogs,
``os._exit``, forbidden imports, floods of output) must be contained and labelled.
"""

from __future__ import annotations

import pytest

from gradcheck.student.assignment import get_assignment
from gradcheck.student.builtin import PRESETS
from gradcheck.student.labels import Label
from gradcheck.student.sandbox import Limits
from gradcheck.student.validate import validate_submission
from tests.student.corpus import Expectation, corpus

CORPUS = corpus()


@pytest.mark.parametrize("expect", CORPUS, ids=[e.id for e in CORPUS])
def test_corpus_submission(expect: Expectation) -> None:
    # The files about timeouts set their own short budget; the rest get one that no busy
    # runner runs out of, since a slow machine must not turn a verdict into a timeout.
    limits = Limits(timeout=expect.timeout or 120.0, memory_mb=expect.memory_mb or 2048)
    result = validate_submission(expect.path, get_assignment(expect.assignment), limits=limits)
    got = {str(label) for label in result.labels}
    assert result.verdict == expect.verdict, result.message
    assert expect.labels <= got, (
        f"expected labels {sorted(expect.labels)}, got {sorted(got)}\n{result.message}"
    )
    if expect.verdict == "partial":
        assert 0 < result.score < result.max_score, result.message
    if expect.verdict == "pass":
        assert not got, result.message
        assert all(c.status in ("pass", "not_implemented") for c in result.checks)


def test_every_label_and_assignment_has_a_corpus_file() -> None:
    labels = {label for e in CORPUS for label in e.labels}
    assert {str(label) for label in Label} <= labels
    assignments = {e.assignment for e in CORPUS}
    presets = [p.stem for p in PRESETS.glob("*.toml")]
    for name in ("two-layer", "deep-mlp", "layers", "coursera", "nielsen", *presets):
        assert name in assignments, name
        assert any(e.assignment == name and e.verdict == "pass" for e in CORPUS)
        assert any(e.assignment == name and e.verdict == "fail" for e in CORPUS)


def test_corpus_headers_name_real_labels() -> None:
    known = {str(label) for label in Label}
    for expect in CORPUS:
        assert expect.labels <= known, (
            f"{expect.id}: unknown labels {sorted(expect.labels - known)}"
        )
