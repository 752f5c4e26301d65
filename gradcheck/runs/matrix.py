"""The comparison matrix behind ``gradcheck compare``: engines × settings × devices × dtypes.

Every row (an engine with one setting, on one device) computes the gradients of the same
examples, and every cell (a row in one dtype) is measured against a numerical reference of
the core's loss taken in float64: the ``fd`` engine by default, or ``cs``. For a float32
cell the reference is taken on the float32 case widened exactly to float64, so it
differentiates the very function the float32 engines see.

The relative error of one gradient entry is

    |g − g_ref| / max(|g_ref|, s),    s = 1e-3 · max|g_ref| over that entry's tensor

(an all-zero reference tensor is measured in absolute terms; s is
``steps.MATRIX_SCALE_FRACTION``, and the division is ``compare.relative_error``). A cell
reports the median and the worst of this over every entry of every example, and is judged
by its worst |g − g_ref| over the error a correct engine is expected to show in the cell's
own dtype (``expected_terms``: ``steps.MATRIX_EXPECTED_ULPS`` ulps of the tensor's largest
reference gradient plus 4 reference error bars), which puts it in a band of
``steps.MATRIX_BANDS`` (:attr:`MatrixCell.band`). The examples
are drawn with ``numpy.random.default_rng(seed)`` (``case.draw_case``, ``NORMAL_DRAWS``),
so the same config gives the same cases, and a row's float32 column uses the float64
column's values rounded to float32.

:attr:`MatrixResult.summary` says what the matrix shows (:class:`MatrixSummary`): for each
cell whose setting differs from its baseline in that one setting, whether the setting has
no effect, no measurable one (worst errors within ``steps.MEASURABLE_FACTOR``) or moves the
gradients; the range of worst errors per dtype; and what was not measured.

Nothing here prints: :func:`run_matrix` returns a :class:`MatrixResult`, and
``gradcheck.report.matrix`` formats it.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gradcheck.case import NORMAL_DRAWS, Case, draw_case
from gradcheck.compare import relative_error
from gradcheck.engine_plugins import load_engine_modules
from gradcheck.engines import ENGINES, Engine, EngineResult, ReferenceEngine, get_engine
from gradcheck.errors import GradcheckError, UnknownNameError
from gradcheck.nn.spec import DTYPES, NetworkSpec
from gradcheck.numeric.steps import (
    MATRIX_BANDS,
    MATRIX_EXPECTED_ULPS,
    MATRIX_SCALE_FRACTION,
    MEASURABLE_FACTOR,
    SUBNORMAL_FLOOR,
)
from gradcheck.runs.executors import SizedExecutor, engine_executor

__all__ = [
    "BASELINES",
    "DEVICES",
    "ENGINE_NAMES",
    "REFERENCES",
    "REFERENCE_DESCRIPTIONS",
    "SETTINGS",
    "SETTING_LABELS",
    "DtypeRange",
    "MatrixCell",
    "MatrixConfig",
    "MatrixResult",
    "MatrixSummary",
    "Setting",
    "SettingEffect",
    "Unmeasured",
    "available_devices",
    "band_of",
    "draw_cases",
    "expected_terms",
    "relative_errors",
    "run_matrix",
    "summarise_matrix",
]

ENGINE_NAMES = ("core", "torch", "jax")
DEVICES = ("cpu", "cuda")
REFERENCES = ("fd", "cs")
REFERENCE_DESCRIPTIONS = {
    "fd": "central differences of the core's loss in float64, Richardson-extrapolated",
    "cs": "complex-step derivatives of the core's loss in float64",
}
# The JAX platform that stands for each device name.
_JAX_PLATFORMS = {"cpu": "cpu", "cuda": "gpu"}


@dataclass(frozen=True)
class Setting:
    """One configuration of an engine, labelled ``key=value`` (``"-"`` when it has none), and
    the keywords it passes to the engine's ``loss_and_grads``."""

    engine: str
    key: str
    value: str
    kwargs: tuple[tuple[str, object], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.key}={self.value}" if self.key else "-"


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "core": (Setting("core", "", ""),),
    "torch": (
        Setting("torch", "tf32", "off", (("tf32", False),)),
        Setting("torch", "tf32", "on", (("tf32", True),)),
    ),
    "jax": (
        Setting("jax", "precision", "highest", (("matmul_precision", "highest"),)),
        Setting("jax", "precision", "default", (("matmul_precision", "default"),)),
    ),
}
# For each setting key, the value the others are compared against (the exact one).
BASELINES: dict[str, str] = {"tf32": "off", "precision": "highest"}
SETTING_LABELS = tuple(s.label for options in SETTINGS.values() for s in options if s.key)


def known_engines() -> tuple[str, ...]:
    """core, torch, jax, then every other registered analytic engine (a user's, from
    ``register_engine``), which runs with no setting, on the CPU."""
    others = (n for n in ENGINES if n not in (*ENGINE_NAMES, *REFERENCES))
    return (*ENGINE_NAMES, *(n for n in others if get_engine(n).kind == "analytic"))


def _settings(engine: str) -> tuple[Setting, ...]:
    return SETTINGS.get(engine, (Setting(engine, "", ""),))


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _check_names(kind: str, chosen: Sequence[str], known: Sequence[str]) -> None:
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise UnknownNameError(f"unknown {kind} {unknown[0]!r} (known: {', '.join(known)})")
    if not chosen:
        raise GradcheckError(f"no {kind} chosen (known: {', '.join(known)})")


@dataclass(frozen=True)
class MatrixConfig:
    """What to compare and on which workload: an MLP ``widths`` with ``hidden`` activations and
    ``loss`` (summed), ``examples`` batches of ``batch`` rows drawn from ``seed``.

    ``settings`` holds the setting labels to run (``tf32=off``, ``tf32=on``,
    ``precision=highest``, ``precision=default``); the core has none and always runs.
    Unknown names, an engine left without any of its settings, a non-positive count or a
    network the spec refuses raise a GradcheckError.
    """

    engines: tuple[str, ...] = ENGINE_NAMES
    dtypes: tuple[str, ...] = DTYPES
    settings: tuple[str, ...] = SETTING_LABELS
    devices: tuple[str, ...] = ("cpu",)
    examples: int = 5
    seed: int = 0
    widths: tuple[int, ...] = (16, 32, 32, 8)
    hidden: str = "tanh"
    loss: str = "mse"
    batch: int = 16
    reference: str = "fd"
    engine_modules: tuple[str, ...] = ()  # imported first in every worker (--engine-module)

    def __post_init__(self) -> None:
        for name in ("engines", "dtypes", "settings", "devices"):
            object.__setattr__(self, name, _unique(tuple(getattr(self, name))))
        object.__setattr__(self, "widths", tuple(self.widths))
        _check_names("engine", self.engines, known_engines())
        _check_names("dtype", self.dtypes, DTYPES)
        _check_names("device", self.devices, DEVICES)
        _check_names("setting", self.settings, SETTING_LABELS)
        _check_names("reference", (self.reference,), REFERENCES)
        for engine in self.engines:
            if not self.settings_of(engine):
                options = ", ".join(s.label for s in _settings(engine))
                raise GradcheckError(f"engine {engine!r} has none of its settings ({options})")
        if self.examples < 1 or self.batch < 1:
            raise GradcheckError(
                f"examples={self.examples} and batch={self.batch} must be positive"
            )
        self.spec("float64")  # the spec's own checks: widths, activation and loss names

    def settings_of(self, engine: str) -> tuple[Setting, ...]:
        """The engine's settings chosen by this config, in the order of SETTINGS."""
        return tuple(s for s in _settings(engine) if not s.key or s.label in self.settings)

    def spec(self, dtype: str) -> NetworkSpec:
        return NetworkSpec(self.widths, hidden=self.hidden, loss=self.loss, dtype=dtype)

    def workload(self) -> str:
        """One line: ``MLP 16-32-32-8, tanh hidden, mse loss, batch 16, 5 examples, seed 0``."""
        return (
            f"MLP {'-'.join(map(str, self.widths))}, {self.hidden} hidden, {self.loss} loss, "
            f"batch {self.batch}, {self.examples} examples, seed {self.seed}"
        )


@dataclass(frozen=True)
class MatrixCell:
    """One engine, setting, device and dtype over ``examples`` cases.

        ``median_rel`` and ``worst_rel`` are the median and the largest relative error (module
        docstring) over every gradient entry of every example; ``worst_over_bar`` is the largest
        |g − g_ref| / e_ref, with e_ref the fd reference's error bar (None for ``cs``): at or
        below 1 the cell is indistinguishable from the reference. ``worst_over_expected`` is the
    largest |g − g_ref| / x, x the error expected of a correct engine in this dtype
    (``expected_terms``); :attr:`band` names its band. ``worst_entry`` names where
        the worst error sits (``"W2[3, 1] in example 0"``). ``seconds`` is the engine's time
        summed over the examples, after one untimed warm-up call (which absorbs JAX's
        compilation and CUDA start-up). A skipped cell has ``skipped`` set to the reason and
        None for every number.
    """

    engine: str
    dtype: str
    setting: str
    device: str
    examples: int
    median_rel: float | None
    worst_rel: float | None
    seconds: float
    skipped: str | None = None
    worst_over_bar: float | None = None
    worst_entry: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    worst_over_expected: float | None = None

    @property
    def row(self) -> tuple[str, str, str]:
        return (self.engine, self.setting, self.device)

    @property
    def band(self) -> str | None:
        """The band of ``steps.MATRIX_BANDS`` that ``worst_over_expected`` falls in; None for
        a skipped cell."""
        return None if self.worst_over_expected is None else band_of(self.worst_over_expected)


@dataclass(frozen=True)
class MatrixResult:
    """Every cell (row-major: engine, setting, device, then dtype), the config, notes on what
    was left out and why, and the reference's own resolution per dtype: the median and the
    worst of its error bar, relative as above (fd only; empty for cs)."""

    config: MatrixConfig
    cells: tuple[MatrixCell, ...]
    notes: tuple[str, ...] = ()
    resolution: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, str, str]]:
        """The distinct (engine, setting, device) rows, in order."""
        return list(dict.fromkeys(cell.row for cell in self.cells))

    def cell(self, engine: str, setting: str, device: str, dtype: str) -> MatrixCell | None:
        return next(
            (c for c in self.cells if c.row == (engine, setting, device) and c.dtype == dtype),
            None,
        )

    @property
    def summary(self) -> MatrixSummary:
        """What the matrix shows (:func:`summarise_matrix`)."""
        return summarise_matrix(self)


# Drawing the cases --------------------------------------------------------------------------
def draw_cases(config: MatrixConfig) -> list[Case]:
    """``config.examples`` float64 cases, one after another from ``default_rng(config.seed)``
    (``case.draw_case`` with ``NORMAL_DRAWS``): Xavier-uniform weights, biases in
    U(−0.5, 0.5), X ~ N(0, 1), targets inside the loss's domain (N(0, 1) values,
    probabilities in U(0.05, 0.95), uniform labels)."""
    rng = np.random.default_rng(config.seed)
    spec = config.spec("float64")
    return [
        draw_case(spec, rng, config.batch, NORMAL_DRAWS, config.seed)
        for _ in range(config.examples)
    ]


# Measuring ----------------------------------------------------------------------------------
def relative_errors(
    grads: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per tensor of ``reference``, the float64 array |g − g_ref| / max(|g_ref|, s) with
    s = 1e-3·max|g_ref| of that tensor (1 when the tensor is all zero); a non-finite g gives
    inf. Shapes are the tensors' own."""
    errors = {}
    for name, ref in reference.items():
        r = np.asarray(ref, np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            rel = _relative_to_reference(np.abs(np.asarray(grads[name], np.float64) - r), r)
        errors[name] = np.where(np.isfinite(rel), rel, np.inf)
    return errors


def _relative_to_reference(error: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """error / max(|g_ref|, s) with s = MATRIX_SCALE_FRACTION·max|g_ref| (``relative_error``);
    the error itself where s is not positive (an all-zero tensor: absolute terms)."""
    scale = MATRIX_SCALE_FRACTION * float(np.max(np.abs(ref), initial=0.0))
    return relative_error(error, ref, scale) if scale > 0 else error


def _over_bar(grads: Mapping[str, np.ndarray], reference: EngineResult) -> float:
    """The largest |g − g_ref| / e_ref (0/0 counts as 0, x/0 as inf)."""
    bars = reference.error_bars or {}
    worst = 0.0
    for name, ref in reference.grads.items():
        diff = np.abs(np.asarray(grads[name], np.float64) - np.asarray(ref, np.float64))
        bar = np.asarray(bars.get(name, np.zeros_like(diff)), np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(diff == 0, 0.0, diff / bar)
        if reference.unreliable is not None and name in reference.unreliable:
            ratio = np.where(reference.unreliable[name], 0.0, ratio)
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        worst = max(worst, float(np.max(ratio, initial=0.0)))
    return worst


def band_of(ratio: float) -> str:
    """The first band of ``steps.MATRIX_BANDS`` whose bound is at least ``ratio`` (a worst
    error over the expected one); NaN falls in the last band."""
    return next((name for name, bound in MATRIX_BANDS if ratio <= bound), MATRIX_BANDS[-1][0])


def expected_terms(dtype: str) -> tuple[float, float]:
    """(u·ε, k): a correct engine in ``dtype`` is expected to miss each entry by at most
    u·ε·S + k·e_ref, S the largest |g_ref| of the entry's tensor (of the network when the
    tensor is all zero) and e_ref the reference's error bar."""
    share = MATRIX_EXPECTED_ULPS[dtype] * float(np.finfo(np.dtype(dtype)).eps)
    return share, 4.0


def _over_expected(grads: Mapping[str, np.ndarray], reference: EngineResult, dtype: str) -> float:
    """The largest |g − g_ref| / (u·ε·S + k·e_ref) of ``expected_terms``, floored at
    SUBNORMAL_FLOOR times the dtype's smallest normal number; unreliable entries skipped."""
    share, k = expected_terms(dtype)
    refs = {n: np.asarray(g, np.float64) for n, g in reference.grads.items()}
    network = max((float(np.max(np.abs(r), initial=0.0)) for r in refs.values()), default=0.0)
    floor = SUBNORMAL_FLOOR * float(np.finfo(np.dtype(dtype)).tiny)
    bars = reference.error_bars or {}
    worst = 0.0
    for name, ref in refs.items():
        diff = np.abs(np.asarray(grads[name], np.float64) - ref)
        scale = float(np.max(np.abs(ref), initial=0.0)) or network
        bar = np.asarray(bars.get(name, np.zeros_like(diff)), np.float64)
        expected = np.maximum(share * scale + k * bar, floor)
        ratio = np.where(np.isfinite(diff), diff / expected, np.inf)
        if reference.unreliable is not None and name in reference.unreliable:
            ratio = np.where(reference.unreliable[name], 0.0, ratio)
        worst = max(worst, float(np.max(ratio, initial=0.0)))
    return worst


def _resolution(references: Sequence[EngineResult]) -> tuple[float, float]:
    """The median and the worst of e_ref / max(|g_ref|, 1e-3·max|g_ref|) over every entry."""
    values = []
    for ref in references:
        for name, g in ref.grads.items():
            bar = np.asarray((ref.error_bars or {})[name], np.float64)
            values.append(_relative_to_reference(bar, np.asarray(g, np.float64)).ravel())
    joined = np.concatenate(values) if values else np.zeros(1)
    return float(np.median(joined)), float(np.max(joined))


# Engines and devices ------------------------------------------------------------------------
def _engine(setting: Setting, device: str) -> Engine:
    base = get_engine(setting.engine)
    if setting.engine not in ("torch", "jax"):  # the core, or a user's: no setting, the CPU
        return base
    if not isinstance(base, ReferenceEngine):
        raise GradcheckError(
            f"engine {setting.engine!r} was re-registered and takes no setting or device"
        )
    platform = device if setting.engine == "torch" else _JAX_PLATFORMS[device]
    return base.configured({**dict(setting.kwargs), "device": platform})


def _device_reason(engine: str, device: str) -> str | None:
    """None when the (installed) ``engine`` can run on ``device``, else why not. Imports torch
    or jax to ask them about CUDA."""
    if device == "cpu":
        return None
    if engine == "torch":
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            return None
        return f"torch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False)"
    if engine == "jax":
        jax = importlib.import_module("jax")
        try:
            jax.devices(_JAX_PLATFORMS[device])
        except RuntimeError:
            platforms = ", ".join(sorted({d.platform for d in jax.devices()}))
            return f"jax {jax.__version__} has no gpu device (platforms: {platforms})"
        return None
    return f"the {engine} engine runs on the CPU only"


def available_devices(engines: Sequence[str] = ENGINE_NAMES) -> tuple[str, ...]:
    """``("cpu",)``, plus ``"cuda"`` when torch or JAX among ``engines`` is installed and sees a
    CUDA device."""
    for engine in engines:
        installed = engine in ("torch", "jax") and get_engine(engine).unavailable_reason() is None
        if installed and _device_reason(engine, "cuda") is None:
            return ("cpu", "cuda")
    return ("cpu",)


# Running ------------------------------------------------------------------------------------
def _skipped(setting: Setting, device: str, dtype: str, reason: str) -> MatrixCell:
    return MatrixCell(setting.engine, dtype, setting.label, device, 0, None, None, 0.0, reason)


def _relative_errors(
    results: Sequence[EngineResult], references: Sequence[EngineResult]
) -> tuple[np.ndarray, str, int]:
    """Every compared entry's relative error, joined; where the worst one is; and how many
    entries were left out because the reference marks them unreliable (on a kink)."""
    values: list[np.ndarray] = []
    worst, where, excluded = -1.0, "", 0
    for example, (result, ref) in enumerate(zip(results, references, strict=True)):
        for name, rel in relative_errors(result.grads, ref.grads).items():
            skip = (ref.unreliable or {}).get(name)
            keep = np.ones(rel.shape, bool) if skip is None else ~np.asarray(skip, bool)
            excluded += int(rel.size - keep.sum())
            values.append(rel[keep])
            masked = np.where(keep, rel, -1.0)
            if masked.size and float(masked.max()) > worst:
                index = np.unravel_index(int(np.argmax(masked)), masked.shape)
                worst = float(masked.max())
                where = f"{name}[{', '.join(str(int(i)) for i in index)}] in example {example}"
    return (np.concatenate(values) if values else np.zeros(0)), where, excluded


def _run_cell(
    engine: Engine,
    setting: Setting,
    device: str,
    cases: Sequence[Case],
    references: Sequence[EngineResult],
    with_bars: bool,
) -> MatrixCell:
    dtype = cases[0].spec.dtype
    try:
        engine.run(cases[0])  # warm-up, untimed: compilation, CUDA context
        results = [engine.run(case) for case in cases]
    except (GradcheckError, RuntimeError) as error:
        return _skipped(setting, device, dtype, f"error: {type(error).__name__}: {error}")
    joined, where, excluded = _relative_errors(results, references)
    if joined.size == 0:
        return _skipped(setting, device, dtype, "no entry could be compared (all on kinks)")
    meta = {**dict(results[0].meta), "entries": int(joined.size), "excluded_entries": excluded}
    return MatrixCell(
        engine=setting.engine,
        dtype=dtype,
        setting=setting.label,
        device=device,
        examples=len(results),
        median_rel=float(np.median(joined)),
        worst_rel=float(np.max(joined)),
        seconds=sum(r.seconds for r in results),
        worst_over_bar=(
            max(_over_bar(r.grads, ref) for r, ref in zip(results, references, strict=True))
            if with_bars
            else None
        ),
        worst_entry=where,
        meta=meta,
        worst_over_expected=max(
            _over_expected(r.grads, ref, dtype) for r, ref in zip(results, references, strict=True)
        ),
    )


class _References:
    """The reference engine's results for each dtype's cases, computed the first time a
    cell of that dtype needs them (so a run whose every cell is skipped computes none), or
    given, computed already by tasks of their own."""

    def __init__(
        self,
        engine: str,
        cases: Mapping[str, Sequence[Case]],
        computed: dict[str, list[EngineResult]] | None = None,
    ) -> None:
        self.engine, self.cases = engine, cases
        self.computed: dict[str, list[EngineResult]] = dict(computed or {})

    def __call__(self, dtype: str) -> list[EngineResult]:
        if dtype not in self.computed:
            self.computed[dtype] = _reference_results(self.engine, self.cases[dtype], dtype)
        return self.computed[dtype]


def _reference_results(engine: str, cases: Sequence[Case], dtype: str) -> list[EngineResult]:
    """The reference, in float64, on ``cases`` (of ``dtype``): a task of its own on workers."""
    reference = get_engine(engine)
    return [reference.run(c if dtype == "float64" else c.with_dtype("float64")) for c in cases]


def _engine_cells(
    config: MatrixConfig,
    name: str,
    cases: Mapping[str, Sequence[Case]],
    reference: _References,
) -> tuple[list[str], list[MatrixCell]]:
    """The notes and the cells of one engine: every device, setting and dtype, in order."""
    notes: list[str] = []
    cells: list[MatrixCell] = []
    missing = get_engine(name).unavailable_reason()
    if missing is not None:
        notes.append(f"skipped: {missing}")
    for device in config.devices:
        if name == "core" and device != "cpu":
            notes.append(f"core: the NumPy core runs on the CPU only, so it has no {device} row")
            continue
        reason = missing or _device_reason(name, device)
        if reason is not None and missing is None:
            notes.append(f"{name} on {device} skipped: {reason}")
        for setting in config.settings_of(name):
            for dtype in config.dtypes:
                if reason is not None:
                    cells.append(_skipped(setting, device, dtype, reason))
                    continue
                engine = _engine(setting, device)
                with_bars = config.reference == "fd"
                cells.append(
                    _run_cell(engine, setting, device, cases[dtype], reference(dtype), with_bars)
                )
    return notes, cells


def _engine_task(
    config: MatrixConfig,
    name: str,
    cases: Mapping[str, Sequence[Case]],
    references: dict[str, list[EngineResult]],
) -> tuple[list[str], list[MatrixCell]]:
    return _engine_cells(config, name, cases, _References(config.reference, cases, references))


def _on_executor(
    pool: SizedExecutor, config: MatrixConfig, cases: Mapping[str, Sequence[Case]]
) -> tuple[list[tuple[list[str], list[MatrixCell]]], dict[str, list[EngineResult]]]:
    """Each dtype's reference as a task, then each engine's cells as a task (an engine's
    cells share its compiled programs). Results in the order of ``config.engines``."""
    if any(get_engine(name).unavailable_reason() is None for name in config.engines):
        futures = {d: pool.submit(_reference_results, config.reference, cases[d], d) for d in cases}
        references = {d: future.result() for d, future in futures.items()}
    else:  # every cell is skipped: no reference is needed
        references = {}
    engines = [pool.submit(_engine_task, config, n, cases, references) for n in config.engines]
    return [future.result() for future in engines], references


def run_matrix(
    config: MatrixConfig,
    *,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
) -> MatrixResult:
    """Run every engine × setting × device × dtype of ``config`` on the same drawn cases and
    measure each against the reference. An engine that is not installed, or a device that an
    engine cannot reach, gives skipped cells with the reason and a note; an engine that
    raises gives a skipped cell whose reason starts with ``error:``.

    With ``jobs`` above 1 or the ``dask`` executor, the references and the engines run as
    tasks (``runs.executors``); the cases are drawn here either way, so the errors are the
    same, and so is the result wherever the tasks ran, the timings aside."""
    start = time.perf_counter()
    load_engine_modules(config.engine_modules)
    cases64 = draw_cases(config)
    cases = {d: [c if d == "float64" else c.with_dtype(d) for c in cases64] for d in config.dtypes}
    if executor == "local" and jobs <= 1:
        reference = _References(config.reference, cases)
        per_engine = [_engine_cells(config, name, cases, reference) for name in config.engines]
        computed = reference.computed
    else:
        with engine_executor(
            executor, workers=jobs, scheduler=scheduler, engine_modules=config.engine_modules
        ) as pool:
            per_engine, computed = _on_executor(pool, config, cases)
    notes = [note for engine_notes, _ in per_engine for note in engine_notes]
    cells = [cell for _, engine_cells in per_engine for cell in engine_cells]
    resolution = (
        {d: _resolution(refs) for d, refs in computed.items()} if config.reference == "fd" else {}
    )
    return MatrixResult(config, tuple(cells), tuple(notes), resolution, time.perf_counter() - start)


# Summarising --------------------------------------------------------------------------------
Change = Literal["none", "unmeasurable", "moves"]


@dataclass(frozen=True)
class SettingEffect:
    """A cell whose setting differs from its baseline (``BASELINES``) in that one setting,
    against ``base``, the same engine, device and dtype with the baseline setting.

    ``change`` is "none" when both the median and the worst error are identical,
    "unmeasurable" when the two worst errors are non-zero and within
    ``MEASURABLE_FACTOR`` of each other, else "moves"."""

    cell: MatrixCell
    base: MatrixCell
    change: Change

    @property
    def worst(self) -> float:
        return self.cell.worst_rel or 0.0

    @property
    def base_worst(self) -> float:
        return self.base.worst_rel or 0.0


@dataclass(frozen=True)
class DtypeRange:
    """The ``cells`` cells of one dtype that ran: the one with the lowest worst error and the
    one with the highest (the first of equals), and the largest worst / fd bar among them
    (None when no cell has one)."""

    dtype: str
    cells: int
    lowest: MatrixCell
    highest: MatrixCell
    worst_over_bar: float | None

    @property
    def within_reference(self) -> bool:
        """Every cell lies within the fd reference's error bar: the errors are the
        reference's, and the engines agree at least this well."""
        return self.worst_over_bar is not None and self.worst_over_bar <= 1


@dataclass(frozen=True)
class Unmeasured:
    """An engine on a device with no measured cell, and why (its first skipped cell's
    reason)."""

    engine: str
    device: str
    reason: str


@dataclass(frozen=True)
class MatrixSummary:
    """What a matrix shows: the setting effects in cell order, the range per dtype in the
    config's order, then what was not measured."""

    effects: tuple[SettingEffect, ...]
    ranges: tuple[DtypeRange, ...]
    unmeasured: tuple[Unmeasured, ...]


def _change(cell: MatrixCell, base: MatrixCell) -> Change:
    if (cell.median_rel, cell.worst_rel) == (base.median_rel, base.worst_rel):
        return "none"
    a, b = cell.worst_rel or 0.0, base.worst_rel or 0.0
    low, high = min(a, b), max(a, b)
    if low > 0 and high / low <= MEASURABLE_FACTOR:
        return "unmeasurable"
    return "moves"


def _setting_effects(ran: Sequence[MatrixCell]) -> tuple[SettingEffect, ...]:
    index = {(c.engine, c.setting, c.device, c.dtype): c for c in ran}
    effects = []
    for cell in ran:
        key, _, value = cell.setting.partition("=")
        if key not in BASELINES or value == BASELINES[key]:
            continue
        base = index.get((cell.engine, f"{key}={BASELINES[key]}", cell.device, cell.dtype))
        if base is not None:
            effects.append(SettingEffect(cell, base, _change(cell, base)))
    return tuple(effects)


def _dtype_range(dtype: str, cells: Sequence[MatrixCell]) -> DtypeRange:
    ordered = sorted(cells, key=lambda c: c.worst_rel or 0.0)
    bars = [c.worst_over_bar for c in cells if c.worst_over_bar is not None]
    return DtypeRange(dtype, len(cells), ordered[0], ordered[-1], max(bars) if bars else None)


def summarise_matrix(result: MatrixResult) -> MatrixSummary:
    """The :class:`MatrixSummary` of ``result``, from its cells that ran (not skipped, with a
    worst error) and, for what was not measured, from its skipped ones."""
    ran = [c for c in result.cells if c.skipped is None and c.worst_rel is not None]
    ranges = []
    for dtype in result.config.dtypes:
        cells = [c for c in ran if c.dtype == dtype]
        if cells:
            ranges.append(_dtype_range(dtype, cells))
    reasons: dict[tuple[str, str], str] = {}
    for cell in result.cells:
        if cell.skipped is not None:
            reasons.setdefault((cell.engine, cell.device), cell.skipped)
    unmeasured = tuple(Unmeasured(e, d, reason) for (e, d), reason in reasons.items())
    return MatrixSummary(_setting_effects(ran), tuple(ranges), unmeasured)
