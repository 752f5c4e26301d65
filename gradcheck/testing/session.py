"""The gradient checks of a test session, as plain data.

Each check made through the pytest fixture becomes a :class:`CheckSummary`; the checks of
one test add up to a :class:`TestChecks`; the tests of a session to a :class:`SessionResults`,
which the report writers format. Everything converts to and from JSON-able dicts, because
under pytest-xdist the checks travel from the workers to the controller inside test reports.

A passing check keeps only its worst tensor; a failing check keeps every failing tensor. A
test keeps its counts, its worst tensor and its last few failing checks: under Hypothesis the
last one is the minimal example, replayed after shrinking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gradcheck.compare import Record, entry_name

__all__ = ["CheckSummary", "SessionResults", "TensorSummary", "TestChecks"]

KEPT_FAILURES = 3


@dataclass(frozen=True)
class TensorSummary:
    """One tensor's worst entry in one check: both values, the errors, the share of the
    tolerance used (``ratio``; above 1 fails)."""

    tensor: str
    index: tuple[int, ...]
    engine_a: str
    engine_b: str
    value_a: float
    value_b: float
    abs_err: float
    rel_err: float
    allowed: float
    ratio: float
    verdict: str
    out_rank: int = 0

    @classmethod
    def from_record(cls, record: Record) -> TensorSummary:
        return cls(
            tensor=record.tensor,
            index=tuple(record.index),
            engine_a=record.engine_a,
            engine_b=record.engine_b,
            value_a=record.value_a,
            value_b=record.value_b,
            abs_err=record.abs_err,
            rel_err=record.rel_err,
            allowed=record.allowed,
            ratio=record.ratio,
            verdict=record.verdict,
            out_rank=record.out_rank,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TensorSummary:
        return cls(**{**data, "index": tuple(data["index"])})

    @property
    def where(self) -> str:
        return (
            entry_name(self.tensor, self.index, self.out_rank, sep=", ")
            if self.index
            else self.tensor
        )

    def describe(self) -> str:
        """``w[2, 1]: backward = 1.5, numerical = 1.0 (|diff| 0.5, allowed 1e-13)``."""
        return (
            f"{self.where}: {self.engine_a} = {self.value_a:.9g}, {self.engine_b} = "
            f"{self.value_b:.9g} (|diff| {self.abs_err:.3g}, relative {self.rel_err:.3g}, "
            f"allowed {self.allowed:.3g}, {self.ratio:.3g}× the tolerance)"
        )


def worst_of(tensors: Iterable[TensorSummary]) -> TensorSummary | None:
    """The tensor that used the largest share of its tolerance."""
    return max(tensors, key=lambda t: t.ratio, default=None)


@dataclass(frozen=True)
class CheckSummary:
    """One check: a call of ``assert_gradients``, ``assert_layer``, ``assert_case``, or one
    comparison with a recorded baseline (``kind="baseline"``)."""

    label: str
    kind: str
    verdict: str
    detail: str
    tensors: tuple[TensorSummary, ...]
    evaluations: int = 0
    notes: tuple[str, ...] = ()

    @classmethod
    def from_records(
        cls,
        label: str,
        kind: str,
        verdict: str,
        detail: str,
        records: Sequence[Record],
        *,
        evaluations: int = 0,
        notes: Sequence[str] = (),
    ) -> CheckSummary:
        tensors = [TensorSummary.from_record(r) for r in records]
        kept = [t for t in tensors if t.verdict == "fail"]
        if not kept:
            worst = worst_of(tensors)
            kept = [worst] if worst is not None else []
        return cls(label, kind, verdict, detail, tuple(kept), evaluations, tuple(notes))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckSummary:
        return cls(
            label=data["label"],
            kind=data["kind"],
            verdict=data["verdict"],
            detail=data["detail"],
            tensors=tuple(TensorSummary.from_dict(t) for t in data["tensors"]),
            evaluations=data.get("evaluations", 0),
            notes=tuple(data.get("notes", ())),
        )

    @property
    def worst(self) -> TensorSummary | None:
        return worst_of(self.tensors)


@dataclass
class TestChecks:
    """The gradient checks made by one test (mutable while the test runs)."""

    __test__ = False  # not a pytest test class, despite its name

    test: str
    outcome: str = ""
    checks: int = 0
    passed: int = 0
    failed: int = 0
    inconclusive: int = 0
    worst: TensorSummary | None = None  # over the passing checks: the nearest miss
    failures: list[CheckSummary] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, check: CheckSummary) -> None:
        self.checks += 1
        self.kinds[check.kind] = self.kinds.get(check.kind, 0) + 1
        if check.verdict == "fail":
            self.failed += 1
            self.failures = [*self.failures, check][-KEPT_FAILURES:]
        elif check.verdict == "pass":
            self.passed += 1
        else:
            self.inconclusive += 1
        candidate = check.worst if check.verdict == "pass" else None
        if candidate is None or not math.isfinite(candidate.ratio):
            return
        if self.worst is None or candidate.ratio > self.worst.ratio:
            self.worst = candidate

    @property
    def last_failure(self) -> CheckSummary | None:
        return self.failures[-1] if self.failures else None

    @property
    def shown(self) -> TensorSummary | None:
        """What a summary shows: the failure of a failed test, else the nearest miss."""
        failure = self.last_failure
        if self.outcome == "failed" and failure is not None and failure.worst is not None:
            return failure.worst
        return self.worst

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestChecks:
        worst = data.get("worst")
        return cls(
            test=data["test"],
            outcome=data.get("outcome", ""),
            checks=data["checks"],
            passed=data["passed"],
            failed=data["failed"],
            inconclusive=data["inconclusive"],
            worst=None if worst is None else TensorSummary.from_dict(worst),
            failures=[CheckSummary.from_dict(c) for c in data.get("failures", ())],
            kinds=dict(data.get("kinds", {})),
        )


@dataclass
class SessionResults:
    """Every test that made a gradient check, in the order their reports arrived, plus the
    baseline bookkeeping of the session."""

    tests: list[TestChecks] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0
    command: str = ""
    baseline: str | None = None
    baseline_unrecorded: list[str] = field(default_factory=list)
    baseline_recorded: list[str] = field(default_factory=list)

    def add(self, checks: TestChecks) -> None:
        self.tests.append(checks)

    @property
    def checks(self) -> int:
        return sum(t.checks for t in self.tests)

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.tests)

    @property
    def inconclusive(self) -> int:
        return sum(t.inconclusive for t in self.tests)

    @property
    def failed_expected(self) -> int:
        """Failed checks in tests that did not fail: the test expected the failure (inside
        ``pytest.raises``, under ``xfail``, or by asserting the verdict), as tests that
        plant a bug on purpose do."""
        return sum(t.failed for t in self.tests if t.outcome != "failed")

    @property
    def failing_tests(self) -> list[TestChecks]:
        return [t for t in self.tests if t.outcome == "failed" and t.failed]

    def ranked(self) -> list[TestChecks]:
        """Failing tests first, then by the worst share of the tolerance used."""

        def key(t: TestChecks) -> tuple[int, float]:
            shown = t.shown
            return (0 if t.outcome == "failed" else 1, -(shown.ratio if shown else 0.0))

        return sorted(self.tests, key=key)

    @property
    def verdict(self) -> str:
        return "fail" if self.failing_tests else "pass"
