"""The sweep: Hypothesis-drawn cases for every (hidden activation, loss, dtype) cell, each
checked by every engine pair. A failing cell is shrunk by Hypothesis to a minimal case.

Orchestration only: cases come from ``strategies``, verdicts from ``check``.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.strategies import SearchStrategy

from gradcheck.case import Case
from gradcheck.check import CheckResult, check_case, engine_pairs
from gradcheck.compare import Record, Verdict, aggregate_verdict
from gradcheck.engine_plugins import load_engine_modules
from gradcheck.engines import Engine, get_engine
from gradcheck.errors import EngineUnavailableError, GradcheckError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.runs.executors import open_executor, start_method, start_worker
from gradcheck.runs.inconclusive import InconclusiveExample, inconclusive_example
from gradcheck.runs.seeded import draws_independent_of_imports
from gradcheck.strategies import cases

__all__ = ["CellResult", "PairSummary", "SweepConfig", "SweepResult", "run_sweep"]


@dataclass(frozen=True)
class SweepConfig:
    engines: tuple[str, ...] = ("core", "fd", "torch", "jax")
    examples: int = 10
    dtypes: tuple[str, ...] = ("float64", "float32")
    seed: int = 0
    activations: tuple[str, ...] = ()  # empty: every registered activation
    losses: tuple[str, ...] = ()  # empty: every registered loss
    max_depth: int = 6
    max_width: int = 16
    max_batch: int = 8
    kinks: str = "avoid"  # strategies.cases: keep clear of kinks, "aim" at them, or "allow"
    engine_modules: tuple[str, ...] = ()  # imported first, here and in every worker

    def cells(self) -> list[tuple[str, str, str]]:
        activations = [ACTIVATIONS.canonical(a) for a in self.activations] or list(ACTIVATIONS)
        losses = [LOSSES.canonical(loss) for loss in self.losses] or list(LOSSES)
        return [(d, a, loss) for d in self.dtypes for a in activations for loss in losses]


@dataclass(frozen=True)
class PairSummary:
    """One engine pair within one cell: its worst record over all examples and tensors, the
    drawn case that record came from (``Case.describe``: widths, hidden and output
    activations, loss, reduction, residual layers, dtype, batch), and the examples in which
    some of its tensors were inconclusive, with why."""

    engine_a: str
    engine_b: str
    examples: int
    failed: int
    worst: Record | None
    worst_case: str = ""
    inconclusive: tuple[InconclusiveExample, ...] = ()

    @property
    def pair(self) -> str:
        return f"{self.engine_a} vs {self.engine_b}"


@dataclass(frozen=True)
class CellResult:
    dtype: str
    hidden: str
    loss: str
    examples: int
    verdicts: dict[str, int]
    pairs: tuple[PairSummary, ...]
    engine_seconds: dict[str, float]
    counterexample: CheckResult | None = None
    hypothesis_seed: int = 0
    engine_meta: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        return aggregate_verdict([v for v, n in self.verdicts.items() if n])  # type: ignore[misc]

    @property
    def name(self) -> str:
        return f"{self.dtype}-{self.hidden}-{self.loss}"


@dataclass(frozen=True)
class SweepResult:
    config: SweepConfig
    cells: tuple[CellResult, ...]
    engines: tuple[str, ...]
    skipped_engines: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0  # wall-clock time of run_sweep

    @property
    def verdict(self) -> Verdict:
        return aggregate_verdict([c.verdict for c in self.cells])

    @property
    def examples(self) -> int:
        return sum(c.examples for c in self.cells)


class _Failed(Exception):
    """Raised inside the Hypothesis test so that it shrinks a failing case."""


def _cell_seed(config: SweepConfig, cell: tuple[str, str, str]) -> int:
    return zlib.crc32(f"{config.seed}:{':'.join(cell)}".encode())


def resolve_engines(names: Sequence[str], *, strict: bool) -> tuple[list[str], dict[str, str]]:
    """The engines that can run. With ``strict``, a missing one raises EngineUnavailableError;
    otherwise it is skipped and the reason returned."""
    usable, skipped = [], {}
    for name in names:
        engine = get_engine(name)
        reason = engine.unavailable_reason()
        if reason is None:
            usable.append(engine.name)
        elif strict:
            raise EngineUnavailableError(reason)
        else:
            skipped[engine.name] = reason
    if len(usable) < 2:
        raise GradcheckError(
            f"a check compares engines, so it needs at least two; usable: {usable or 'none'}"
        )
    return usable, skipped


def _pair_summary(a: str, b: str, results: list[CheckResult]) -> PairSummary:
    """Engines ``a`` and ``b`` over a cell's examples: the worst record and its example's
    case, and the examples in which some tensors were inconclusive."""
    per_example = [
        [r for r in res.records if (r.engine_a, r.engine_b) == (a, b)] for res in results
    ]
    failed = sum(any(r.verdict == "fail" for r in records) for records in per_example)
    worst = max(
        ((r, i) for i, records in enumerate(per_example) for r in records),
        key=lambda ri: ri[0].ratio,
        default=None,
    )
    undecided = (
        inconclusive_example(i, results[i].case, records) for i, records in enumerate(per_example)
    )
    return PairSummary(
        a,
        b,
        len(results),
        failed,
        worst[0] if worst else None,
        results[worst[1]].case.describe() if worst else "",
        tuple(u for u in undecided if u is not None),
    )


def _summarise(
    dtype: str,
    hidden: str,
    loss: str,
    engines: Sequence[str | Engine],
    results: list[CheckResult],
    minimal: CheckResult | None,
    hypothesis_seed: int,
) -> CellResult:
    names = [e if isinstance(e, str) else e.name for e in engines]  # names or Engine objects
    pairs = [_pair_summary(a, b, results) for a, b in engine_pairs(names)]
    seconds: dict[str, float] = {}
    for res in results:
        for run in res.runs:
            seconds[run.engine] = seconds.get(run.engine, 0.0) + run.seconds
    verdicts: dict[str, int] = dict(Counter(str(res.verdict) for res in results))
    meta = {run.engine: dict(run.meta) for run in results[0].runs} if results else {}
    return CellResult(
        dtype,
        hidden,
        loss,
        len(results),
        verdicts,
        tuple(pairs),
        seconds,
        minimal,
        hypothesis_seed,
        meta,
    )


def _cell_cases(config: SweepConfig, cell: tuple[str, str, str]) -> SearchStrategy[Case]:
    """The cases of one (dtype, hidden activation, loss) cell, within the config's bounds."""
    dtype, hidden, loss = cell
    return cases(
        activations=[hidden],
        losses=[loss],
        dtypes=[dtype],
        max_depth=config.max_depth,
        max_width=config.max_width,
        max_batch=config.max_batch,
        kinks=config.kinks,  # type: ignore[arg-type]
    )


def run_cell(
    config: SweepConfig,
    cell: tuple[str, str, str],
    engines: Sequence[str | Engine],
    on_example: Callable[[], None] | None = None,
) -> CellResult:
    """Draw ``config.examples`` cases for one cell; shrink the first failure."""
    dtype, hidden, loss = cell
    results: list[CheckResult] = []
    failures: list[CheckResult] = []
    strategy = _cell_cases(config, cell)
    cell_seed = _cell_seed(config, cell)

    @seed(cell_seed)
    @settings(
        max_examples=config.examples,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=[Phase.generate, Phase.shrink],
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def probe(case: Case) -> None:
        result = check_case(case, engines)
        if result.verdict == "fail":
            failures.append(result)
            raise _Failed
        if not failures:
            results.append(result)
            if on_example is not None:
                on_example()

    minimal = None
    try:
        with draws_independent_of_imports():
            probe()
    except _Failed:
        # Hypothesis replays the shrunk example last, so the last failure is the minimal one.
        minimal = failures[-1]
        results.append(failures[0])
        if on_example is not None:
            on_example()
    return _summarise(dtype, hidden, loss, engines, results, minimal, cell_seed)


def _run_cells(
    config: SweepConfig, cells: list[tuple[str, str, str]], engines: list[str]
) -> list[CellResult]:
    return [run_cell(config, cell, engines) for cell in cells]


def _run_tasks(
    pool: Executor,
    config: SweepConfig,
    cells: list[tuple[str, str, str]],
    engines: list[str],
    on_example: Callable[[], None] | None,
) -> dict[int, CellResult]:
    """Every cell, as one task per (dtype, loss): the cells of a task share the references'
    compiled programs (JAX compiles one per loss and dtype), so each program is compiled in
    one worker rather than in every worker. Results by the cell's index."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (dtype, _, loss) in enumerate(cells):
        groups.setdefault((dtype, loss), []).append(i)
    futures = {
        pool.submit(_run_cells, config, [cells[i] for i in group], engines): group
        for group in groups.values()
    }
    results: dict[int, CellResult] = {}
    for future in as_completed(futures):
        for i, result in zip(futures[future], future.result(), strict=True):
            results[i] = result
            for _ in range(result.examples):
                if on_example is not None:
                    on_example()
    return results


def run_sweep(
    config: SweepConfig,
    *,
    strict_engines: bool = False,
    on_example: Callable[[], None] | None = None,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
) -> SweepResult:
    """Run every cell of ``config``: here when ``jobs`` is 1, else as tasks on an executor
    (``gradcheck.runs.executors``: ``local``, ``jobs`` worker processes; ``dask``, a cluster).

    Missing optional engines are skipped (and listed in the result) unless
    ``strict_engines``. Cells are independent and seeded by name, so the result does not
    depend on ``jobs`` or the executor; with workers, ``on_example`` is called as each cell
    completes.
    """
    start = time.perf_counter()
    load_engine_modules(config.engine_modules)
    engines, skipped = resolve_engines(config.engines, strict=strict_engines)
    cells = config.cells()
    if executor == "local" and (jobs <= 1 or len(cells) <= 1):
        done = tuple(run_cell(config, cell, engines, on_example) for cell in cells)
        return SweepResult(config, done, tuple(engines), skipped, time.perf_counter() - start)
    with open_executor(
        executor,
        workers=jobs,
        scheduler=scheduler,
        start_method=start_method(),
        initializer=start_worker,
        initargs=(config.engine_modules,),
    ) as pool:
        results = _run_tasks(pool, config, cells, engines, on_example)
    done = tuple(results[i] for i in range(len(cells)))
    return SweepResult(config, done, tuple(engines), skipped, time.perf_counter() - start)
