"""The Hypothesis search for an input on which a check fails, shrunk to the smallest.

``hypothesis.find`` drives the search with the seed given, so one seed always explores the
same inputs. That needs one precaution: Hypothesis also draws, now and then, constants it
finds in the source of every non-library module loaded at the time, so the same seed met other
inputs (and, once, missed a bug) in a process that happened to have imported other modules.
The search runs without those constants (``runs.seeded.draws_independent_of_imports``).

A shrink step only counts as failing when it fails the same way as the first
failure found (the same set of problem labels), so a wrong gradient is not shrunk into,
say, a crash on an empty batch. When the child dies mid-search (a hang, memory, exit), the
search stops and reports it; the input that killed it is kept. A submission that fails on
an input and then passes on the same input when Hypothesis replays it (a wrong answer on the
first call only, or randomness) makes Hypothesis raise ``Flaky``; the search reports that
as ``flaky``, with the failing trial, never as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import Flaky, NoSuchExample, Unsatisfiable

from gradcheck.runs.seeded import draws_independent_of_imports
from gradcheck.student.contract import Check
from gradcheck.student.sandbox import Sandbox, SandboxDied
from gradcheck.student.trial import Trial, run_trial

__all__ = ["SearchResult", "search"]


@dataclass
class SearchResult:
    trials: int = 0
    minimal: Trial | None = None
    passing: Trial | None = None
    died: SandboxDied | None = None
    died_on: Any = None
    first_failure: Trial | None = None
    flaky: bool = False  # a failure that did not repeat on the same input


def search(check: Check, sandbox: Sandbox, *, examples: int, seed: int) -> SearchResult:
    result = SearchResult()
    first_kind: frozenset[str] | None = None

    def fails(case: Any) -> bool:
        nonlocal first_kind
        if result.died is not None:
            return False
        try:
            trial = run_trial(check, sandbox, case)
        except SandboxDied as died:
            result.died, result.died_on = died, case
            return False
        result.trials += 1
        if not trial.failed:
            result.passing = result.passing or trial
            return False
        first_kind = first_kind or trial.kind
        result.first_failure = result.first_failure or trial
        return trial.kind == first_kind

    config = settings(
        parent=settings.get_profile("default"),
        max_examples=min(examples, getattr(check, "examples", None) or examples),
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    try:
        with draws_independent_of_imports():
            case = find(check.cases(), fails, settings=config, random=Random(seed))
    except (NoSuchExample, Unsatisfiable):
        return result
    except Flaky:
        result.flaky = True
        return result
    if result.died is None:
        try:
            result.minimal = run_trial(check, sandbox, case)
        except SandboxDied as died:
            result.died, result.died_on = died, case
        else:  # the input Hypothesis settled on failed once and passes now
            result.flaky = not result.minimal.failed
    return result
