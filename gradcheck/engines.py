"""Engines: things that turn a Case into a loss and gradients, registered by name.

Built in:

* ``core``  — gradcheck's own NumPy backprop (analytic).
* ``fd``    — Richardson-extrapolated central differences of the core's loss in float64
  (numerical).
* ``cs``    — complex-step derivatives of the core's loss in float64 (exact to rounding).
* ``torch`` — ``reference_impls.torch_impl``: torch autograd (analytic; extra ``torch``).
* ``jax``   — ``reference_impls.jax_impl``: ``jax.value_and_grad`` (analytic; extra ``jax``).

torch and jax are imported the first time their engine runs, never before. A user's own
library plugs in with :func:`register_engine`, from a module named on the command line
(``--engine-module``) or through the ``gradcheck.engines`` entry-point group
(:func:`load_entry_points`; ``gradcheck.engine_plugins`` tells the whole story).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from gradcheck.case import Case
from gradcheck.errors import EngineUnavailableError, GradcheckError
from gradcheck.nn.network import evaluate
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.core_complex_step import core_complex_step
from gradcheck.numeric.core_differences import core_differences
from gradcheck.numeric.steps import COMPLEX_STEP, machine_eps
from gradcheck.registry import Registry

__all__ = [
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "Engine",
    "EngineOutputError",
    "EngineResult",
    "entry_point_problem",
    "get_engine",
    "load_entry_points",
    "register_engine",
]

Kind = Literal["analytic", "numerical"]
Array = np.ndarray


class EngineOutputError(GradcheckError):
    """An engine returned gradients with missing names, wrong shapes or the wrong dtype."""


@dataclass(frozen=True)
class EngineResult:
    """What one engine computed for one case. ``error_bars`` and ``unreliable`` (entries
    whose estimate straddles a kink) come from numerical engines only."""

    engine: str
    kind: Kind
    loss: float
    grads: Mapping[str, Array]
    error_bars: Mapping[str, Array] | None = None
    unreliable: Mapping[str, Array] | None = None
    evaluations: int = 1
    seconds: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)


class Engine(ABC):
    name: str = ""
    kind: Kind = "analytic"
    summary: str = ""
    requires: tuple[str, ...] = ()  # modules that must be importable
    extra: str | None = None  # the pip extra that installs them

    def unavailable_reason(self) -> str | None:
        """None when the engine can run, else why not and what to install. Imports nothing."""
        missing = [module for module in self.requires if importlib.util.find_spec(module) is None]
        if not missing:
            return None
        hint = f"pip install 'gradcheck[{self.extra}]'" if self.extra else f"install {missing[0]}"
        return f"engine {self.name!r} needs {', '.join(missing)}, which is not installed: {hint}"

    def run(self, case: Case) -> EngineResult:
        """Compute, time and check the shape and dtype of the result."""
        reason = self.unavailable_reason()
        if reason is not None:
            raise EngineUnavailableError(reason)
        start = time.perf_counter()
        result = self.compute(case)
        result = replace(result, seconds=time.perf_counter() - start)
        _check_output(self.name, case.spec, result.grads)
        return result

    @abstractmethod
    def compute(self, case: Case) -> EngineResult: ...


def _check_output(engine: str, spec: NetworkSpec, grads: Mapping[str, Array]) -> None:
    expected = spec.param_shapes()
    if set(grads) != set(expected):
        raise EngineOutputError(
            f"engine {engine!r} returned gradients {sorted(grads)}, expected {list(expected)}"
        )
    for name, shape in expected.items():
        grad = grads[name]
        if not isinstance(grad, np.ndarray) or grad.shape != shape:
            got = getattr(grad, "shape", type(grad).__name__)
            raise EngineOutputError(
                f"engine {engine!r}: gradient {name} is {got}, expected {shape}"
            )
        if grad.dtype != spec.np_dtype:
            raise EngineOutputError(
                f"engine {engine!r}: gradient {name} has dtype {grad.dtype} in a {spec.dtype} case"
            )


class CoreEngine(Engine):
    name, kind, summary = "core", "analytic", "gradcheck's NumPy backprop (delta recursion)"

    def compute(self, case: Case) -> EngineResult:
        loss, grads = evaluate(case.spec, case.params, case.X, case.y)
        meta = {"library": "numpy", "version": np.__version__, "dtype": case.spec.dtype}
        return EngineResult(self.name, self.kind, loss, grads, meta=meta)


class FiniteDifferenceEngine(Engine):
    name, kind = "fd", "numerical"
    summary = (
        "central differences of the core's loss in float64, Richardson-extrapolated, "
        "with error bars"
    )

    def compute(self, case: Case) -> EngineResult:
        # Always in float64: a float32 case is widened exactly, so its float32 gradients are
        # judged against derivatives of the same function that carry float64's error, not
        # float32's (a float32 central difference is only good to ~1e-5 relative).
        spec = case.spec
        wide = case if spec.dtype == "float64" else case.with_dtype("float64")
        numeric = core_differences(wide.spec, wide.params, wide.X, wide.y)
        cast = machine_eps(spec.dtype) / 2  # rounding the float64 estimate to the case's dtype
        meta = {
            "method": "central, Richardson, batched over perturbations, in float64",
            "step": "eps^(1/3)·max(1,|θ|)",
            "dtype": "float64",
        }
        return EngineResult(
            self.name,
            self.kind,
            numeric.loss,
            {k: g.astype(spec.np_dtype) for k, g in numeric.grads.items()},
            error_bars={
                k: bar + cast * np.abs(numeric.grads[k]) for k, bar in numeric.error_bars.items()
            },
            unreliable=numeric.unreliable,
            evaluations=numeric.evaluations,
            meta=meta,
        )


class ComplexStepEngine(Engine):
    name, kind = "cs", "analytic"  # exact to rounding, so judged like an analytic engine
    summary = "complex-step derivatives of the core's loss, in float64"

    def compute(self, case: Case) -> EngineResult:
        spec = case.spec
        loss, grads, bars = core_complex_step(spec, case.params, case.X, case.y)
        meta = {
            "method": "complex step, batched over perturbations",
            "step": f"{COMPLEX_STEP:g}·max(1,|θ|)",
        }
        return EngineResult(
            self.name,
            self.kind,
            loss,
            {k: g.astype(spec.np_dtype) for k, g in grads.items()},
            error_bars=bars,
            evaluations=sum(g.size for g in grads.values()),
            meta={**meta, "dtype": "float64"},
        )


class ReferenceEngine(Engine):
    """An engine in ``reference_impls``: ``module.loss_and_grads(spec, params, X, y,
    **settings)``, where ``settings`` are its keywords (``tf32``, ``matmul_precision``,
    ``device``; none by default)."""

    def __init__(
        self,
        name: str,
        module: str,
        requires: str,
        summary: str,
        settings: Mapping[str, object] | None = None,
    ) -> None:
        self.name, self.module, self.summary = name, module, summary
        self.requires, self.extra = (requires,), requires
        self.settings: Mapping[str, object] = MappingProxyType(dict(settings or {}))

    def configured(self, settings: Mapping[str, object]) -> ReferenceEngine:
        """The same engine with ``settings`` passed on top of its own."""
        return ReferenceEngine(
            self.name, self.module, self.requires[0], self.summary, {**self.settings, **settings}
        )

    def compute(self, case: Case) -> EngineResult:
        impl = importlib.import_module(self.module)
        loss, grads, meta = impl.loss_and_grads(
            case.spec, case.params, case.X, case.y, **self.settings
        )
        return EngineResult(self.name, self.kind, float(loss), grads, meta=meta)


class FunctionEngine(Engine):
    """A user's function ``fn(spec, params, X, y) -> (loss, grads)`` as an engine."""

    def __init__(
        self, name: str, fn: Callable[..., tuple[float, Mapping[str, Array]]], summary: str
    ):
        self.name, self.fn, self.summary = name, fn, summary

    def compute(self, case: Case) -> EngineResult:
        loss, grads = self.fn(case.spec, case.params, case.X, case.y)
        return EngineResult(self.name, self.kind, float(loss), dict(grads))


ENGINES: Registry[Engine] = Registry("engine")
ENGINES.register("core", lambda name: CoreEngine(), summary=CoreEngine.summary)
ENGINES.register(
    "fd", lambda name: FiniteDifferenceEngine(), summary=FiniteDifferenceEngine.summary
)
ENGINES.register("cs", lambda name: ComplexStepEngine(), summary=ComplexStepEngine.summary)
ENGINES.register(
    "torch",
    lambda name: ReferenceEngine(name, "reference_impls.torch_impl", "torch", "torch autograd"),
    summary="torch autograd (reference_impls/torch_impl.py)",
)
ENGINES.register(
    "jax",
    lambda name: ReferenceEngine(name, "reference_impls.jax_impl", "jax", "jax.value_and_grad"),
    summary="jax.value_and_grad (reference_impls/jax_impl.py)",
)


def get_engine(name: str) -> Engine:
    """The engine registered as ``name``, looked up among the installed packages'
    ``gradcheck.engines`` entry points when it is not registered yet; UnknownNameError lists
    the known ones."""
    if name not in ENGINES:
        problem = entry_point_problem(name)
        if problem is not None:
            raise GradcheckError(problem)
    return ENGINES.get(name)


def register_engine(
    name: str, fn: Callable[..., tuple[float, Mapping[str, Array]]], *, summary: str = ""
) -> None:
    """Register ``fn(spec, params, X, y) -> (loss, grads)`` as an analytic engine.

    ``grads`` must use the names ``W1, b1, …`` with the shapes and dtype of the case.
    """
    ENGINES.register(name, lambda _: FunctionEngine(name, fn, summary), summary=summary)


# Entry points ------------------------------------------------------------------------------
ENTRY_POINT_GROUP = "gradcheck.engines"
_loaded_entry_points = False
_broken: dict[str, str] = {}


def load_entry_points() -> tuple[str, ...]:
    """Register every engine of the ``gradcheck.engines`` entry-point group not registered
    yet, once per process; return their names."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return ()
    _loaded_entry_points = True
    added = []
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name in ENGINES:
            continue
        try:
            _register(point)
        except GradcheckError as error:
            _broken[point.name] = str(error)
            continue
        added.append(point.name)
    return tuple(added)


def entry_point_problem(name: str) -> str | None:
    """Why the entry point called ``name`` could not be registered, or None when no
    entry point of that name failed."""
    load_entry_points()
    return _broken.get(name)


def _register(point: metadata.EntryPoint) -> None:
    where = f"entry point {point.name} = {point.value!r} (group {ENTRY_POINT_GROUP})"
    try:
        target = point.load()
    except Exception as error:
        raise GradcheckError(
            f"{where}: loading it raised {type(error).__name__}: {error}"
        ) from None
    if isinstance(target, Engine):
        engine = target
        ENGINES.register(point.name, lambda _: engine, summary=engine.summary)
    elif inspect.isclass(target) and issubclass(target, Engine):
        cls = target
        ENGINES.register(point.name, lambda _: cls(), summary=cls.summary)
    elif callable(target):
        register_engine(point.name, target, summary=f"{point.value} (entry point)")
    else:
        raise GradcheckError(
            f"{where}: it names a {type(target).__name__}, not an Engine or a function "
            "(spec, params, X, y) -> (loss, grads)"
        )
