"""Checking one case: run every engine, compare every pair, reach a verdict.

This module only wires the pieces together; the numerics live in ``engines``,
``numeric`` and ``compare``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gradcheck.case import Case
from gradcheck.compare import Record, Verdict, compare_results, overall_verdict
from gradcheck.engines import Engine, EngineResult, get_engine
from gradcheck.errors import GradcheckError
from gradcheck.nn.network import forward
from gradcheck.numeric.kinks import subgradient_ambiguity
from gradcheck.numeric.rounding import term_magnitudes

__all__ = ["CheckResult", "EngineRun", "check_case", "describe_failures", "engine_pairs"]


@dataclass(frozen=True)
class EngineRun:
    """What an engine did for one case, without its arrays."""

    engine: str
    loss: float | None
    seconds: float
    evaluations: int
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one case: every pair's records, and what each engine did.

    An engine that raised a GradcheckError (bad output shape, a loss outside its domain)
    makes the verdict ``fail`` and its message is kept in ``EngineRun.error``.
    """

    case: Case
    verdict: Verdict
    records: tuple[Record, ...]
    runs: tuple[EngineRun, ...]
    ambiguous_entries: int = 0

    @property
    def evaluations(self) -> int:
        return sum(run.evaluations for run in self.runs)

    @property
    def failures(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == "fail")

    @property
    def errors(self) -> tuple[EngineRun, ...]:
        return tuple(run for run in self.runs if run.error is not None)


def engine_pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair, in the order the engines were given (core first by convention)."""
    return list(itertools.combinations(names, 2))


def check_case(case: Case, engines: Sequence[str | Engine]) -> CheckResult:
    """Run ``engines`` on ``case`` and compare every pair of them."""
    resolved = [get_engine(e) if isinstance(e, str) else e for e in engines]
    results: dict[str, EngineResult] = {}
    runs = []
    for engine in resolved:
        try:
            result = engine.run(case)
        except GradcheckError as error:
            runs.append(
                EngineRun(engine.name, None, 0.0, 0, error=f"{type(error).__name__}: {error}")
            )
            continue
        results[engine.name] = result
        runs.append(
            EngineRun(
                engine.name, result.loss, result.seconds, result.evaluations, meta=dict(result.meta)
            )
        )
    spec = case.spec
    cache = forward(spec, case.params, case.X)
    ambiguous = subgradient_ambiguity(spec, case.params, cache, case.y)
    rounding = term_magnitudes(spec, case.params, cache, case.y)
    records: list[Record] = []
    for a, b in engine_pairs([e.name for e in resolved]):
        if a in results and b in results:
            records.extend(
                compare_results(
                    results[a], results[b], dtype=spec.dtype, ambiguous=ambiguous, rounding=rounding
                )
            )
    verdicts: list[Verdict] = [r.verdict for r in records]
    if any(run.error for run in runs):
        verdicts.append("fail")
    n_ambiguous = sum(int(m.sum()) for m in ambiguous.values()) if ambiguous else 0
    return CheckResult(case, overall_verdict(verdicts), tuple(records), tuple(runs), n_ambiguous)


def describe_failures(result: CheckResult) -> str:
    """A readable account of what failed: per failing tensor, the pair, the index, both
    values, the error, the error bar and what was allowed; then any engine errors."""
    lines = [f"{result.verdict}: {result.case.describe()}"]
    lines.extend(f"  {r.pair}: {r.describe()}" for r in result.failures)
    for run in result.errors:
        lines.append(f"  engine {run.engine} raised {run.error}")
    return "\n".join(lines)
