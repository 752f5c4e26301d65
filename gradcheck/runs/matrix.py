"""The comparison matrix behind ``gradcheck compare``: engines × settings × devices × dtypes.

Every row (an engine with one setting, on one device) computes the gradients of the same
examples, and every cell (a row in one dtype) is measured against a numerical reference of
the core's loss taken in float64: the ``fd`` engine by default, or ``cs``. For a float32
cell the reference is taken on the float32 case widened exactly to float64, so it
differentiates the very function the float32 engines see.

The relative error of one gradient entry is

    |g − g_ref| / max(|g_ref|, s),    s = 1e-3 · max|g_ref| over that entry's tensor

(an all-zero reference tensor is measured in absolute terms). A cell reports the median
and the worst of this over every entry of every example. The examples are drawn with
``numpy.random.default_rng(seed)``, so the same config gives the same cases, and a row's
float32 column uses the float64 column's values rounded to float32.

Nothing here prints: :func:`run_matrix` returns a :class:`MatrixResult`, and
``gradcheck.report.matrix`` formats it.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck.case import Case
from gradcheck.engines import Engine, EngineResult, ReferenceEngine, get_engine
from gradcheck.errors import GradcheckError, UnknownNameError
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import DTYPES, NetworkSpec

__all__ = [
    "BASELINES",
    "DEVICES",
    "ENGINE_NAMES",
    "REFERENCES",
    "REFERENCE_DESCRIPTIONS",
    "SCALE_FRACTION",
    "SETTINGS",
    "SETTING_LABELS",
    "MatrixCell",
    "MatrixConfig",
    "MatrixResult",
    "Setting",
    "available_devices",
    "draw_cases",
    "relative_errors",
    "run_matrix",
]

ENGINE_NAMES = ("core", "torch", "jax")
DEVICES = ("cpu", "cuda")
REFERENCES = ("fd", "cs")
REFERENCE_DESCRIPTIONS = {
    "fd": "central differences of the core's loss in float64, Richardson-extrapolated",
    "cs": "complex-step derivatives of the core's loss in float64",
}
# s = SCALE_FRACTION · max|g_ref| keeps entries near zero from dominating the relative error.
SCALE_FRACTION = 1e-3
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

    def __post_init__(self) -> None:
        for name in ("engines", "dtypes", "settings", "devices"):
            object.__setattr__(self, name, _unique(tuple(getattr(self, name))))
        object.__setattr__(self, "widths", tuple(self.widths))
        _check_names("engine", self.engines, ENGINE_NAMES)
        _check_names("dtype", self.dtypes, DTYPES)
        _check_names("device", self.devices, DEVICES)
        _check_names("setting", self.settings, SETTING_LABELS)
        _check_names("reference", (self.reference,), REFERENCES)
        for engine in self.engines:
            if not self.settings_of(engine):
                options = ", ".join(s.label for s in SETTINGS[engine])
                raise GradcheckError(f"engine {engine!r} has none of its settings ({options})")
        if self.examples < 1 or self.batch < 1:
            raise GradcheckError(
                f"examples={self.examples} and batch={self.batch} must be positive"
            )
        self.spec("float64")  # the spec's own checks: widths, activation and loss names

    def settings_of(self, engine: str) -> tuple[Setting, ...]:
        """The engine's settings chosen by this config, in the order of SETTINGS."""
        return tuple(s for s in SETTINGS[engine] if not s.key or s.label in self.settings)

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
    below 1 the cell is indistinguishable from the reference. ``worst_entry`` names where
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

    @property
    def row(self) -> tuple[str, str, str]:
        return (self.engine, self.setting, self.device)


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


# Drawing the cases --------------------------------------------------------------------------
def _targets(spec: NetworkSpec, batch: int, rng: np.random.Generator) -> np.ndarray:
    kind, out = spec.loss_fn.target, spec.widths[-1]
    if kind == "labels":
        return rng.integers(0, out, size=batch)
    if kind == "probability":
        return rng.uniform(0.05, 0.95, size=(batch, out))
    return rng.normal(size=(batch, out))


def draw_cases(config: MatrixConfig) -> list[Case]:
    """``config.examples`` float64 cases from ``default_rng(config.seed)``: Xavier-uniform
    weights, biases in U(−0.5, 0.5), X ~ N(0, 1), targets inside the loss's domain."""
    rng = np.random.default_rng(config.seed)
    spec = config.spec("float64")
    cases = []
    for _ in range(config.examples):
        params = init_params(spec, rng, "xavier_uniform")
        for name in params:
            if name.startswith("b"):
                params[name] = rng.uniform(-0.5, 0.5, size=params[name].shape)
        X = rng.normal(size=(config.batch, spec.widths[0]))
        cases.append(Case(spec, params, X, _targets(spec, config.batch, rng), config.seed))
    return cases


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
        g = np.asarray(grads[name], np.float64)
        scale = SCALE_FRACTION * float(np.max(np.abs(r), initial=0.0))
        denominator = np.maximum(np.abs(r), scale) if scale > 0 else np.ones_like(r)
        with np.errstate(invalid="ignore", over="ignore"):
            rel = np.abs(g - r) / denominator
        errors[name] = np.where(np.isfinite(rel), rel, np.inf)
    return errors


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


def _resolution(references: Sequence[EngineResult]) -> tuple[float, float]:
    """The median and the worst of e_ref / max(|g_ref|, 1e-3·max|g_ref|) over every entry."""
    values = []
    for ref in references:
        for name, g in ref.grads.items():
            g64 = np.asarray(g, np.float64)
            scale = SCALE_FRACTION * float(np.max(np.abs(g64), initial=0.0))
            denominator = np.maximum(np.abs(g64), scale) if scale > 0 else np.ones_like(g64)
            bar = np.asarray((ref.error_bars or {})[name], np.float64)
            values.append((bar / denominator).ravel())
    joined = np.concatenate(values) if values else np.zeros(1)
    return float(np.median(joined)), float(np.max(joined))


# Engines and devices ------------------------------------------------------------------------
class _ConfiguredReference(ReferenceEngine):
    """A torch or JAX reference whose setting and device keywords are fixed."""

    def __init__(self, base: ReferenceEngine, kwargs: Mapping[str, object]) -> None:
        super().__init__(base.name, base.module, base.requires[0], base.summary)
        self.kwargs = dict(kwargs)

    def compute(self, case: Case) -> EngineResult:
        impl = importlib.import_module(self.module)
        loss, grads, meta = impl.loss_and_grads(
            case.spec, case.params, case.X, case.y, **self.kwargs
        )
        return EngineResult(self.name, self.kind, float(loss), grads, meta=meta)


def _engine(setting: Setting, device: str) -> Engine:
    base = get_engine(setting.engine)
    if setting.engine == "core":
        return base
    if not isinstance(base, ReferenceEngine):
        raise GradcheckError(
            f"engine {setting.engine!r} was re-registered and takes no setting or device"
        )
    platform = device if setting.engine == "torch" else _JAX_PLATFORMS[device]
    return _ConfiguredReference(base, {**dict(setting.kwargs), "device": platform})


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
    joined = np.concatenate(values) if values else np.zeros(0)
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
    )


def run_matrix(config: MatrixConfig) -> MatrixResult:
    """Run every engine × setting × device × dtype of ``config`` on the same drawn cases and
    measure each against the reference. An engine that is not installed, or a device that an
    engine cannot reach, gives skipped cells with the reason and a note; an engine that
    raises gives a skipped cell whose reason starts with ``error:``."""
    start = time.perf_counter()
    cases64 = draw_cases(config)
    cases = {d: [c if d == "float64" else c.with_dtype(d) for c in cases64] for d in config.dtypes}
    references: dict[str, list[EngineResult]] = {}

    def reference(dtype: str) -> list[EngineResult]:
        if dtype not in references:
            engine = get_engine(config.reference)
            wide = [c if dtype == "float64" else c.with_dtype("float64") for c in cases[dtype]]
            references[dtype] = [engine.run(c) for c in wide]
        return references[dtype]

    notes: list[str] = []
    cells: list[MatrixCell] = []
    for name in config.engines:
        missing = get_engine(name).unavailable_reason()
        if missing is not None:
            notes.append(f"skipped: {missing}")
        for device in config.devices:
            if name == "core" and device != "cpu":
                notes.append(
                    f"core: the NumPy core runs on the CPU only, so it has no {device} row"
                )
                continue
            reason = missing or _device_reason(name, device)
            if reason is not None and missing is None:
                notes.append(f"{name} on {device} skipped: {reason}")
            for setting in config.settings_of(name):
                for dtype in config.dtypes:
                    if reason is not None:
                        cells.append(_skipped(setting, device, dtype, reason))
                        continue
                    cells.append(
                        _run_cell(
                            _engine(setting, device),
                            setting,
                            device,
                            cases[dtype],
                            reference(dtype),
                            with_bars=config.reference == "fd",
                        )
                    )
    resolution = (
        {d: _resolution(refs) for d, refs in references.items()} if config.reference == "fd" else {}
    )
    return MatrixResult(config, tuple(cells), tuple(notes), resolution, time.perf_counter() - start)
