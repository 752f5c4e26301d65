"""Golden gradients of fixed cases: record them with an engine, check them later.

A fixed case is rebuilt from (spec, seed, batch) alone, through :func:`init_params` and one
seeded generator (``case.draw_case`` with ``case.UNIFORM_DRAWS``), so that re-checking it
exercises the same code a user's training run does: a changed initialiser changes the
inputs (the entry's fingerprint says so), a changed loss reduction or backprop changes the
gradients at the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck.baseline.drift import Drift, compare_to_baseline
from gradcheck.baseline.store import Baseline, BaselineEntry, fingerprint
from gradcheck.case import UNIFORM_DRAWS, Case, draw_case
from gradcheck.engines import get_engine
from gradcheck.errors import GradcheckError
from gradcheck.nn.spec import NetworkSpec
from gradcheck.report.model import library_versions

__all__ = [
    "BaselineCheck",
    "case_key",
    "check_cases",
    "fixed_case",
    "record_cases",
]

DEFAULT_BATCH = 8


def fixed_case(spec: NetworkSpec, seed: int, batch: int = DEFAULT_BATCH) -> Case:
    """Xavier-uniform weights (``init_params``), biases in ±0.5, X in ±2 and targets in the
    loss's domain, all drawn from ``default_rng(seed)`` in this order."""
    if batch < 1:
        raise GradcheckError(f"batch must be >= 1, got {batch}")
    return draw_case(spec, np.random.default_rng(seed), batch, UNIFORM_DRAWS, seed)


def case_key(spec: NetworkSpec, seed: int, batch: int, engine: str) -> str:
    return f"case:{engine}:{spec.to_text()}:seed={seed}:batch={batch}"


def _inputs(case: Case) -> str:
    return fingerprint({**case.params, "X": case.X, "y": case.y})


def record_cases(
    specs: Sequence[NetworkSpec],
    seeds: Sequence[int],
    *,
    engine: str = "core",
    batch: int = DEFAULT_BATCH,
) -> list[BaselineEntry]:
    """One entry per spec × seed, computed by ``engine``."""
    runner = get_engine(engine)
    entries = []
    for spec in specs:
        for seed in seeds:
            case = fixed_case(spec, seed, batch)
            result = runner.run(case)
            source = {
                "kind": "case",
                "engine": engine,
                "spec": spec.to_text(),
                "seed": seed,
                "batch": batch,
            }
            entries.append(
                BaselineEntry(
                    key=case_key(spec, seed, batch, engine),
                    source=source,
                    loss=result.loss,
                    grads={k: np.array(v) for k, v in result.grads.items()},
                    inputs=_inputs(case),
                )
            )
    return entries


def recording_meta() -> dict[str, object]:
    return {"versions": library_versions()}


@dataclass(frozen=True)
class BaselineCheck:
    """Every case entry of a baseline re-computed and compared; entries recorded by the
    pytest plugin (``kind: test``) are counted in ``skipped``: only their tests re-run them."""

    path: str
    engine: str | None
    drifts: tuple[Drift, ...]
    skipped: int

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "fail" if any(d.verdict == "fail" for d in self.drifts) else "pass"

    @property
    def failures(self) -> tuple[Drift, ...]:
        return tuple(d for d in self.drifts if d.verdict == "fail")


def check_entry(
    entry: BaselineEntry,
    *,
    engine: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Drift:
    """Rebuild the entry's case, run ``engine`` (default: the one that recorded it) and
    compare."""
    source = entry.source
    if source.get("kind") != "case":
        raise GradcheckError(f"baseline entry {entry.key!r} was not recorded from a fixed case")
    spec = NetworkSpec.parse(str(source["spec"]))
    case = fixed_case(spec, int(source["seed"]), int(source["batch"]))
    result = get_engine(engine or str(source["engine"])).run(case)
    return compare_to_baseline(
        entry, result.loss, result.grads, _inputs(case), rtol=rtol, atol=atol
    )


def check_cases(
    baseline: Baseline,
    path: str = "",
    *,
    engine: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> BaselineCheck:
    drifts, skipped = [], 0
    for entry in baseline.entries.values():
        if entry.source.get("kind") != "case":
            skipped += 1
            continue
        drifts.append(check_entry(entry, engine=engine, rtol=rtol, atol=atol))
    return BaselineCheck(path, engine, tuple(drifts), skipped)
