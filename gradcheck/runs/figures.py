"""The data behind the report's pictures. Every function here returns a frozen dataclass of
NumPy arrays; ``gradcheck.report.plots`` only renders them.

* :func:`step_size_curve`: the error of one central difference against the core's analytic
  gradient as the step h varies, with the step gradcheck would choose (the "V" curve).
* :func:`layer_gradient_norms`: ‖∂L/∂W⁽ˡ⁾‖_F per layer of a deep MLP, per activation
  (vanishing and exploding gradients).
* :func:`training_trajectories`: plain gradient descent from one start in the core, torch and
  JAX, and how far the references' parameters drift from the core's.
* :func:`error_bars`: the per-tensor |a − b|, error bar and allowance of comparison Records.

torch and jax are imported only inside :func:`training_trajectories`, and only when installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from gradcheck.case import NORMAL_DRAWS, Case, draw_batch
from gradcheck.compare import Record
from gradcheck.engines import get_engine
from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError, UnknownNameError
from gradcheck.nn.init import init_params
from gradcheck.nn.inputs import validate_batch, validate_params
from gradcheck.nn.network import evaluate, loss_value
from gradcheck.nn.optim import sgd_step
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.steps import TRAJECTORY_TOLERANCES, fd_step

__all__ = [
    "TRAJECTORY_TOLERANCES",
    "ErrorBars",
    "LayerNorms",
    "StepCurve",
    "Trajectories",
    "error_bars",
    "layer_gradient_norms",
    "step_size_curve",
    "training_trajectories",
]

Array = np.ndarray
Params = Mapping[str, Array]

# TRAJECTORY_TOLERANCES (``numeric.steps``, re-exported here beside the trajectories it
# judges): how far a reference's SGD parameters may drift from the core's, per dtype.
REFERENCE_ENGINES = ("torch", "jax")
DEFAULT_STEPS = np.logspace(-12, -1, 45)  # h from 1e-12 to 1e-1, four per decade
DEFAULT_STEPS.setflags(write=False)


def _frozen(values: object, dtype: type[np.generic] = np.float64) -> Array:
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


# The V curve ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StepCurve:
    """|D(h) − g| for each step h, where D(h) = (L(θ + h·e_i) − L(θ − h·e_i)) / 2h is taken in
    ``dtype`` and g = ∂L/∂θ_i is the core's analytic gradient. ``chosen`` is ``fd_step`` for
    θ_i in ``dtype``: ε^(1/3)·max(1, |θ_i|)."""

    steps: Array
    errors: Array
    chosen: float
    dtype: str
    tensor: str
    index: tuple[int, ...]
    gradient: float

    @property
    def best_step(self) -> float:
        """The h of the smallest error on the grid."""
        return float(self.steps[int(np.argmin(self.errors))])

    @property
    def label(self) -> str:
        """``W1[0,2]``: the entry the curve belongs to."""
        return f"{self.tensor}[{','.join(map(str, self.index))}]"


def _entry(case: Case, tensor: str, index: tuple[int, ...]) -> tuple[int, ...]:
    if tensor not in case.params:
        known = ", ".join(case.params)
        raise UnknownNameError(f"no parameter tensor {tensor!r} (this network has {known})")
    shape = case.params[tensor].shape
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape, strict=True)):
        raise ShapeError(f"index {list(index)} is outside {tensor} of shape {shape}")
    return index


def step_size_curve(
    case: Case,
    tensor: str,
    index: tuple[int, ...],
    steps: Array | Sequence[float] = DEFAULT_STEPS,
) -> StepCurve:
    """The error of the central difference of one entry θ_i against the core's gradient,

        error(h) = |(L(θ + h·e_i) − L(θ − h·e_i)) / 2h − ∂L/∂θ_i|,

    with θ ± h·e_i, L and the gradient all in the case's dtype (a float32 case rounds its
    perturbed parameter to float32, which moves the bottom of the V to a larger h). The
    denominator is the nominal 2h: where θ ± h rounds back to θ, D(h) = 0 and the error is |g|.
    Truncation makes the error grow like h² to the right, rounding like ε·|L|/h to the left.
    Where L is quadratic in θ_i (the last layer of an identity output with mse) the central
    difference has no truncation error, and the V has no right arm.
    """
    index = _entry(case, tensor, index)
    grid = np.asarray(steps, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all()):
        raise GradcheckError("steps must be a non-empty 1-d array of positive finite numbers")
    spec, dtype = case.spec, case.spec.np_dtype
    _, grads = evaluate(spec, case.params, case.X, case.y)
    gradient = float(grads[tensor][index])
    theta = float(case.params[tensor][index])
    params = {name: np.array(value) for name, value in case.params.items()}
    errors = np.empty_like(grid)
    for k, h in enumerate(grid):
        sides = []
        for sign in (1.0, -1.0):
            params[tensor][index] = dtype.type(theta + sign * h)
            sides.append(loss_value(spec, params, case.X, case.y))
        errors[k] = abs((sides[0] - sides[1]) / (2 * h) - gradient)
    chosen = float(fd_step(np.array(theta), spec.dtype))
    return StepCurve(_frozen(grid), _frozen(errors), chosen, spec.dtype, tensor, index, gradient)


# Gradient norms per layer --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LayerNorms:
    """‖∂L/∂W⁽ˡ⁾‖_F for l = 1 … depth (``norms[l − 1]``) of one network."""

    activation: str
    norms: Array
    spec: NetworkSpec
    init: str

    @property
    def layers(self) -> Array:
        return np.arange(1, self.norms.size + 1)


def layer_gradient_norms(
    activations: Sequence[str] = ("sigmoid", "tanh", "relu"),
    depth: int = 20,
    width: int = 32,
    batch: int = 16,
    seed: int = 0,
    *,
    init: str = "xavier_uniform",
) -> tuple[LayerNorms, ...]:
    """Per activation, the Frobenius norm ‖∂L/∂W⁽ˡ⁾‖_F = √(Σ_jk (∂L/∂W⁽ˡ⁾_jk)²) of every layer
    of an MLP with ``depth`` layers of ``width`` units (float64, identity output, mean mse).

    Every network gets the same X, y ~ N(0, 1) (``case.draw_batch`` with ``NORMAL_DRAWS``
    from ``default_rng(seed)``) and the same draw of the initialiser from ``seed`` (Glorot's
    ``xavier_uniform`` by default, biases 0, unlike a drawn case's: the initialiser is what
    is shown), so the activation is the only difference. With sigmoid, f′ ≤ ¼ makes the
    norms shrink by orders of magnitude towards layer 1.
    """
    for name, value in (("depth", depth), ("width", width), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GradcheckError(f"{name} must be a positive integer, got {value!r}")
    shape = (width,) * (depth + 1)
    X, y = draw_batch(
        NetworkSpec(shape, reduction="mean"), np.random.default_rng(seed), batch, NORMAL_DRAWS
    )
    results = []
    for activation in activations:
        spec = NetworkSpec(shape, hidden=activation, reduction="mean")
        params = init_params(spec, rng=seed, scheme=init)
        _, grads = evaluate(spec, params, X, y)
        norms = [np.linalg.norm(grads[f"W{layer}"]) for layer in range(1, depth + 1)]
        results.append(LayerNorms(spec.hidden, _frozen(norms), spec, init))
    return tuple(results)


# Training trajectories -----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Trajectories:
    """Plain gradient descent θ_{k+1} = θ_k − lr·∇L(θ_k), k = 0 … steps − 1, from one start.

    ``losses[engine][k]`` is L(θ_k) as that engine computes it (k = 0 … steps, so steps + 1
    values). ``distances[engine][k]`` = max over entries |θ_k^engine − θ_k^core| / ‖θ_k^core‖∞
    for each reference engine. ``notes`` says which engines were skipped and why.
    """

    spec: NetworkSpec
    lr: float
    steps: int
    losses: Mapping[str, Array]
    distances: Mapping[str, Array]
    tolerance: float
    notes: tuple[str, ...] = field(default=())

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.losses)

    def steps_within(self, tolerance: float | None = None, engine: str | None = None) -> int:
        """The number of leading updates k = 1, 2, … after which the parameters stay within
        ``tolerance`` (default ``self.tolerance``) of the core's, for ``engine`` or, when None,
        for every reference engine. ``steps`` means the whole run agreed; a start that already
        differs gives 0. With no reference engine, ``steps``."""
        tol = self.tolerance if tolerance is None else float(tolerance)
        names = tuple(self.distances) if engine is None else (engine,)
        counts = [self.steps]
        for name in names:
            if name not in self.distances:
                raise UnknownNameError(f"no trajectory for engine {name!r} ({self.engines})")
            outside = np.flatnonzero(~(self.distances[name] <= tol))  # NaN counts as outside
            counts.append(self.steps if outside.size == 0 else max(int(outside[0]) - 1, 0))
        return min(counts)


Step = Callable[[dict[str, Array]], tuple[float, dict[str, Array]]]


def _run(name: str, start: Params, step: Step, steps: int) -> tuple[Array, list[dict[str, Array]]]:
    """Losses L(θ_0 … θ_steps) and parameters θ_0 … θ_steps of one engine's descent."""
    params = {key: np.array(value) for key, value in start.items()}
    losses, path = [], [params]
    for k in range(steps + 1):
        loss, params = step(params)
        if not np.isfinite(loss):
            raise NonFiniteError(f"{name}: the loss is {loss} at step {k}; lower the lr")
        losses.append(loss)
        if k < steps:
            path.append(params)
    return _frozen(losses), path


def _core_step(case: Case, lr: float) -> Step:
    def step(params: dict[str, Array]) -> tuple[float, dict[str, Array]]:
        loss, grads = evaluate(case.spec, params, case.X, case.y)
        return loss, sgd_step(params, grads, lr)

    return step


def _jax_step(case: Case, lr: float) -> Step:
    jax_impl = importlib.import_module("reference_impls.jax_impl")

    def step(params: dict[str, Array]) -> tuple[float, dict[str, Array]]:
        loss, grads, _ = jax_impl.loss_and_grads(case.spec, params, case.X, case.y)
        return float(loss), sgd_step(params, grads, lr)

    return step


def _torch_step(case: Case, lr: float) -> Step:
    """torch.optim.SGD on torch leaves; the gradients come from ``reference_impls.torch_impl``
    (torch autograd on the same spec), and SGD applies p ← p − lr·p.grad in torch."""
    torch = importlib.import_module("torch")
    torch_impl = importlib.import_module("reference_impls.torch_impl")
    leaves: dict[str, Any] = {}
    optimizer: list[Any] = []

    def step(params: dict[str, Array]) -> tuple[float, dict[str, Array]]:
        if not leaves:
            leaves.update({k: torch.tensor(v, requires_grad=True) for k, v in params.items()})
            optimizer.append(torch.optim.SGD(list(leaves.values()), lr=lr))
        current = {k: p.detach().numpy().copy() for k, p in leaves.items()}
        loss, grads, _ = torch_impl.loss_and_grads(case.spec, current, case.X, case.y)
        for name, leaf in leaves.items():
            leaf.grad = torch.from_numpy(grads[name])
        optimizer[0].step()
        return float(loss), {k: p.detach().numpy().copy() for k, p in leaves.items()}

    return step


_REFERENCE_STEPS: dict[str, Callable[[Case, float], Step]] = {
    "torch": _torch_step,
    "jax": _jax_step,
}


def _distances(core: list[dict[str, Array]], other: list[dict[str, Array]]) -> Array:
    """max |θ_engine − θ_core| / ‖θ_core‖∞ at every step (in float64)."""
    values = []
    for ours, theirs in zip(core, other, strict=True):
        diff = max(float(np.max(np.abs(theirs[k] - ours[k]), initial=0.0)) for k in ours)
        scale = max(float(np.max(np.abs(v), initial=0.0)) for v in ours.values())
        values.append(diff / scale if scale > 0 else diff)
    return _frozen(values)


def _learning_rates(lr: float, engine_lr: Mapping[str, float] | None) -> dict[str, float]:
    """``lr`` for the core and every reference engine, overridden by ``engine_lr`` (which may
    name reference engines only); each must be a positive finite number."""
    rates = {name: float(lr) for name in ("core", *REFERENCE_ENGINES)}
    for name, rate in (engine_lr or {}).items():
        if name not in REFERENCE_ENGINES:
            raise UnknownNameError(f"engine_lr names {name!r}; known: {REFERENCE_ENGINES}")
        rates[name] = float(rate)
    for name, rate in rates.items():
        if not (np.isfinite(rate) and rate > 0):
            raise GradcheckError(f"learning rate of {name} must be positive, got {rate}")
    return rates


def training_trajectories(
    spec: NetworkSpec,
    params: Mapping[str, object],
    X: object,
    y: object,
    *,
    steps: int = 50,
    lr: float = 0.1,
    engine_lr: Mapping[str, float] | None = None,
) -> Trajectories:
    """Run θ ← θ − lr·∇L(θ) for ``steps`` updates from ``params`` in the core
    (``loss_and_grads`` + ``sgd_step``), in torch (``torch.optim.SGD``, gradients by torch
    autograd) and in JAX (``jax.value_and_grad``, NumPy updates), all in the spec's dtype.

    ``engine_lr`` overrides the learning rate of named reference engines: a planted
    difference, for testing that :meth:`Trajectories.steps_within` notices one. Engines
    that are not installed are skipped with a note; the default tolerance is
    ``TRAJECTORY_TOLERANCES[spec.dtype]``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise GradcheckError(f"steps must be a positive integer, got {steps!r}")
    x, target = validate_batch(spec, X, y)
    case = Case(spec, validate_params(spec, params), x, target)  # read-only for every engine
    rates = _learning_rates(lr, engine_lr)
    core_losses, core_path = _run("core", case.params, _core_step(case, rates["core"]), steps)
    losses, distances, notes = {"core": core_losses}, {}, []
    for name in REFERENCE_ENGINES:
        reason = get_engine(name).unavailable_reason()
        if reason is not None:
            notes.append(f"{name} skipped: {reason}")
            continue
        step = _REFERENCE_STEPS[name](case, rates[name])
        losses[name], path = _run(name, case.params, step, steps)
        distances[name] = _distances(core_path, path)
    return Trajectories(
        spec=spec,
        lr=float(lr),
        steps=steps,
        losses=MappingProxyType(losses),
        distances=MappingProxyType(distances),
        tolerance=TRAJECTORY_TOLERANCES[spec.dtype],
        notes=tuple(notes),
    )


# Error bars of comparison records ------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ErrorBars:
    """One row per Record, all at the Record's worst entry (the one with the largest
    |a − b| / allowed): ``labels[i]`` is "tensor (engine_a vs engine_b)", ``abs_err`` is
    |a − b| there, ``error_bar`` the finite-difference error bar and ``allowed`` the tolerance
    |a − b| was held to. ``failed`` is the Record's verdict; a failing row has
    abs_err > allowed."""

    labels: tuple[str, ...]
    abs_err: Array
    error_bar: Array
    allowed: Array
    failed: Array

    def __len__(self) -> int:
        return len(self.labels)


def error_bars(records: Sequence[Record]) -> ErrorBars:
    """The data of the per-tensor error-bar chart, in the order of ``records`` (usually a
    CheckResult's ``failures``). ``abs_err`` is |value_a − value_b| at the worst entry, as
    ``Record.abs_err`` is (computed here from the values, as the chart shows them)."""
    return ErrorBars(
        labels=tuple(f"{r.tensor} ({r.engine_a} vs {r.engine_b})" for r in records),
        abs_err=_frozen([abs(r.value_a - r.value_b) for r in records]),
        error_bar=_frozen([r.error_bar for r in records]),
        allowed=_frozen([r.allowed for r in records]),
        failed=_frozen([r.verdict == "fail" for r in records], dtype=np.bool_),
    )
