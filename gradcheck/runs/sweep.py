"""The sweep: Hypothesis-drawn cases for every (hidden activation, loss, dtype) cell, each
checked by every engine pair. A failing cell is shrunk by Hypothesis to a minimal case.

A cell's examples are drawn in shards of ``shard_examples`` (``SHARD_EXAMPLES``), each a
Hypothesis run of its own seeded by (``--seed``, the cell, the shard's index), so that a large
sweep splits into tasks that many workers share. The shards, and so the report, depend on
the config alone, never on where or on how many workers they ran; a cell of at most
``shard_examples`` examples is one shard, seeded as the cell. A failing case stops its shard
(the others run on), and the cell shows the first shard's minimal failure.

Orchestration only: cases come from ``strategies``, verdicts from ``check``.
"""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
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
from gradcheck.runs.executors import SizedExecutor, Tasks, engine_executor, run_in_flight
from gradcheck.runs.inconclusive import InconclusiveExample, inconclusive_example
from gradcheck.runs.seeded import draws_independent_of_imports
from gradcheck.strategies import cases

__all__ = [
    "SHARD_EXAMPLES",
    "CellResult",
    "PairSummary",
    "SweepConfig",
    "SweepResult",
    "run_cell",
    "run_sweep",
]

SHARD_EXAMPLES = 50


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
    shard_examples: int = SHARD_EXAMPLES  # examples per shard: a cell's unit of work

    def __post_init__(self) -> None:
        for name in ("examples", "shard_examples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GradcheckError(f"{name} must be a whole number of at least 1, not {value!r}")

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


def _shard_seed(config: SweepConfig, cell: tuple[str, str, str], shard: int) -> int:
    key = f"{config.seed}:{':'.join(cell)}" + (f":{shard}" if shard else "")
    return zlib.crc32(key.encode())


def shards(config: SweepConfig) -> list[int]:
    """The examples of each shard of a cell, in order."""
    whole, rest = divmod(config.examples, config.shard_examples)
    return [config.shard_examples] * whole + ([rest] if rest else [])


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


def _run_shard(
    config: SweepConfig,
    cell: tuple[str, str, str],
    engines: Sequence[str | Engine],
    shard: int,
    on_example: Callable[[], None] | None = None,
) -> CellResult:
    """Draw one shard's cases for one cell; shrink its first failure."""
    dtype, hidden, loss = cell
    results: list[CheckResult] = []
    failures: list[CheckResult] = []
    strategy = _cell_cases(config, cell)
    shard_seed = _shard_seed(config, cell, shard)

    @seed(shard_seed)
    @settings(
        max_examples=shards(config)[shard],
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
    return _summarise(dtype, hidden, loss, engines, results, minimal, shard_seed)


def run_cell(
    config: SweepConfig,
    cell: tuple[str, str, str],
    engines: Sequence[str | Engine],
    on_example: Callable[[], None] | None = None,
) -> CellResult:
    """Draw ``config.examples`` cases for one cell, shard by shard; shrink the failures."""
    parts = [
        _run_shard(config, cell, engines, shard, on_example) for shard in range(len(shards(config)))
    ]
    return merge_shards(parts)


def merge_shards(parts: Sequence[CellResult]) -> CellResult:
    """One cell from its shards, in shard order: counts added, the worst record of each pair
    over them all (the first on a tie), inconclusive examples numbered across the cell, and
    the first shard's counterexample with that shard's seed."""
    first = parts[0]
    if len(parts) == 1:
        return first
    starts = [sum(part.examples for part in parts[:i]) for i in range(len(parts))]
    failing = next((part for part in parts if part.counterexample is not None), first)
    return dataclasses.replace(
        first,
        examples=sum(part.examples for part in parts),
        verdicts=dict(sum((Counter(part.verdicts) for part in parts), Counter())),
        pairs=tuple(
            _merge_pairs([part.pairs[i] for part in parts], starts) for i in range(len(first.pairs))
        ),
        engine_seconds=dict(sum((Counter(part.engine_seconds) for part in parts), Counter())),
        counterexample=failing.counterexample,
        hypothesis_seed=failing.hypothesis_seed,
    )


def _merge_pairs(pairs: Sequence[PairSummary], starts: Sequence[int]) -> PairSummary:
    worst = max(
        (p for p in pairs if p.worst is not None),
        key=lambda p: p.worst.ratio,  # type: ignore[union-attr]
        default=pairs[0],
    )
    return dataclasses.replace(
        pairs[0],
        examples=sum(p.examples for p in pairs),
        failed=sum(p.failed for p in pairs),
        worst=worst.worst,
        worst_case=worst.worst_case,
        inconclusive=tuple(
            dataclasses.replace(u, example=u.example + start)
            for p, start in zip(pairs, starts, strict=True)
            for u in p.inconclusive
        ),
    )


def _run_shards(
    config: SweepConfig, cells: list[tuple[str, str, str]], engines: list[str], shard: int
) -> list[CellResult]:
    return [_run_shard(config, cell, engines, shard) for cell in cells]


def _run_tasks(
    pool: SizedExecutor,
    config: SweepConfig,
    cells: list[tuple[str, str, str]],
    engines: list[str],
    on_example: Callable[[], None] | None,
    on_tasks: Callable[[Tasks], None] | None,
) -> dict[int, CellResult]:
    """Every cell, as one task per (dtype, loss, shard): the cells of a task share the
    references' compiled programs (JAX compiles one per loss and dtype), so each program is
    compiled in one worker rather than in every worker. As many tasks are in flight as the
    executor has workers. Results by the cell's index, its shards merged in order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (dtype, _, loss) in enumerate(cells):
        groups.setdefault((dtype, loss), []).append(i)
    tasks = [(shard, g) for shard in range(len(shards(config))) for g in groups.values()]
    parts: dict[int, dict[int, CellResult]] = {}

    def submit(task: tuple[int, list[int]]) -> Future[list[CellResult]]:
        shard, group = task
        return pool.submit(_run_shards, config, [cells[i] for i in group], engines, shard)

    def finished(task: tuple[int, list[int]], future: Future[list[CellResult]]) -> None:
        shard, group = task
        for i, result in zip(group, future.result(), strict=True):
            parts.setdefault(i, {})[shard] = result
            for _ in range(result.examples):
                if on_example is not None:
                    on_example()

    run_in_flight(pool, tasks, submit, finished, on_tasks)
    return {i: merge_shards([found[k] for k in sorted(found)]) for i, found in parts.items()}


def run_sweep(
    config: SweepConfig,
    *,
    strict_engines: bool = False,
    on_example: Callable[[], None] | None = None,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    on_tasks: Callable[[Tasks], None] | None = None,
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
    with engine_executor(
        executor, workers=jobs, scheduler=scheduler, engine_modules=config.engine_modules
    ) as pool:
        results = _run_tasks(pool, config, cells, engines, on_example, on_tasks)
    done = tuple(results[i] for i in range(len(cells)))
    return SweepResult(config, done, tuple(engines), skipped, time.perf_counter() - start)
